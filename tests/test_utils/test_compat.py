import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader

from vtt.utils import UnsafeCheckpointError, check_amp_available, safe_torch_load
from vtt.utils.errors import AmpUnavailableError
from vtt.utils.io import atomic_open


class _CreatesFileOnLoad:
    """Unpickling this calls os.system, as a malicious checkpoint would."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f'touch {self.target}', )


def _evil_checkpoint(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _CreatesFileOnLoad(marker)}, path)
    return path, marker


def test_malicious_checkpoint_is_refused_and_runs_nothing(tmp_path):
    path, marker = _evil_checkpoint(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match=r"global '(posix|os)\.system'"):
        safe_torch_load(str(path))
    # the mmengine loader (used by load_from / resume / tools/test.py) is the patched one
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_mmengine_checkpoint_contents_load(tmp_path):
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('best', np.float64(0.7))
    state = dict(meta=dict(seed=np.int64(42), hist=np.arange(3)), message_hub=hub.state_dict(),
                 state_dict=dict(w=torch.ones(2)),
                 rng=dict(numpy=np.random.get_state(), torch=torch.get_rng_state()))
    path = tmp_path / 'ok.pth'
    torch.save(state, path)
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 0.5
    np.random.set_state(loaded['rng']['numpy'])


def test_history_buffer_pickles_without_getattr():
    buffer = HistoryBuffer()
    buffer.update(1.0)
    assert b'getattr' not in pickle.dumps(buffer)
    restored = pickle.loads(pickle.dumps(buffer))
    assert restored.statistics('mean') == 1.0


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        safe_torch_load(str(tmp_path / 'nothing.pth'))


def test_amp_on_cpu_is_a_clear_error():
    with pytest.raises(AmpUnavailableError, match='--amp needs a CUDA GPU'):
        check_amp_available('cpu')


def test_writes_are_atomic(tmp_path):
    path = tmp_path / 'ckpt.pth'
    LocalBackend().put(b'old', str(path))
    with pytest.raises(RuntimeError):
        with atomic_open(str(path), 'wb') as handle:
            handle.write(b'half of the new')
            raise RuntimeError('crash mid-write')
    assert path.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.pth']
    LocalBackend().put(b'new', str(path))
    assert path.read_bytes() == b'new'


def test_cpu_distributed_init_with_gloo(tmp_path):
    # A single-process "world" through the torchrun environment variables.
    code = (
        'import torch.distributed as dist\n'
        'from mmengine.config import ConfigDict\n'
        'from vtt.utils import init_cpu_distributed\n'
        'cfg = ConfigDict()\n'
        'init_cpu_distributed(cfg)\n'
        'print(dist.get_backend(), dist.get_world_size(), cfg.model_wrapper_cfg)\n')
    env = dict(os.environ, RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
               MASTER_PORT='29533', CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert "gloo 1 {'type': 'MMDistributedDataParallel', 'device_ids': None}" in out.stdout


def test_atomic_files_get_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = tmp_path / 'out.json'
        with atomic_open(str(path), 'w') as handle:
            handle.write('{}')
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)
