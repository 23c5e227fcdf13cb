"""Fuzzing vtt's data loaders: valid inputs, mutations of them, and the one rule they must obey.

Every loader that reads a user's file (time-series CSV in both layouts, UEA ``.ts``, UCR
``.tsv``, TS-TCC ``.pt``, checkpoints, the meteo ``labels.yaml`` / ``labels.jsonl`` / images /
detected-elements file, CMG's furnace ``.npz`` and the legacy HAPT pickle) is a
:class:`LoaderTarget`: it writes a small VALID input, loads a file, and checks what a load
returned. :func:`fuzz_one` mutates the valid input with a list of operations (random
truncation, bytes flipped or inserted, other text encodings, cells replaced by NaN / inf /
huge numbers / words, lines dropped or doubled, JSON values of the wrong type, an empty
file ...) and loads it. The only outcomes allowed:

* a correct load (the target's ``check`` holds: for example every value finite), or
* a :class:`vtt.utils.errors.VttUserError` whose message names the file.

Anything else (a bare ``IndexError``/``KeyError``/``UnicodeDecodeError`` from deep inside, a
load that takes longer than ``timeout`` seconds, a result that breaks the check) is a
failure. The hypothesis tests (``tests/test_datasets/test_loader_fuzz.py``) draw the operation
lists with hypothesis; ``tools/benchmarks/fault_injection.py`` draws them at random for a time
budget.
"""
import contextlib
import io
import json
import os
import os.path as osp
import random
import signal
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['LoaderTarget', 'TARGETS', 'MUTATIONS', 'mutate', 'fuzz_one', 'FuzzOutcome',
           'random_operations']

#: (operation name, integer parameter) pairs; the parameter picks positions and values.
Operation = Tuple[str, int]

_WORDS = [b'nan', b'NaN', b'inf', b'-inf', b'1e308', b'1e400', b'-1e400', b'9' * 400,
          b'abc', b'', b'null', b'None', b'0x1F', b'1,5', b'\xef\xbb\xbf', b'"', b"'",
          b'\x00', b'True', b'[]', b'{}', b'-', b'.', b'1e-400', b'\xff\xfe']
_JSON_VALUES = [None, 1, -1.5, 'x', '', [], {}, [1, 2], {'a': 1}, True, 1e308, 'nan',
                float('nan'), float('inf'), ['../../etc/passwd'], '../outside.png']


def _pick(seq, param: int):
    return seq[param % len(seq)] if seq else None


def _mutate_bytes(data: bytes, op: str, param: int) -> bytes:
    n = len(data)
    rng = random.Random(param)
    if op == 'truncate':
        return data[:param % (n + 1)]
    if op == 'empty':
        return b''
    if op == 'flip':
        if not n:
            return data
        out = bytearray(data)
        for _ in range(1 + param % 8):
            out[rng.randrange(n)] = rng.randrange(256)
        return bytes(out)
    if op == 'insert':
        pos = param % (n + 1)
        return data[:pos] + bytes(rng.randrange(256) for _ in range(1 + param % 16)) + data[pos:]
    if op == 'encoding':
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return data
        codec = _pick(['utf-16', 'latin-1', 'cp1252', 'utf-32', 'utf-8-sig'], param)
        try:
            return text.encode(codec)
        except UnicodeEncodeError:
            return text.encode(codec, errors='replace')
    if op == 'bad_utf8':
        pos = param % (n + 1)
        return data[:pos] + _pick([b'\xff', b'\xc3\x28', b'\xe2\x82', b'\xed\xa0\x80'],
                                  param) + data[pos:]
    if op in ('cell', 'line_drop', 'line_dup', 'line_swap', 'newlines'):
        lines = data.split(b'\n')
        if op == 'newlines':
            return data.replace(b'\n', _pick([b'\r\n', b'\r', b'\n\n', b''], param))
        index = param % len(lines)
        if op == 'line_drop':
            del lines[index]
        elif op == 'line_dup':
            lines.insert(index, lines[index])
        elif op == 'line_swap':
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
        else:  # replace one field of one line (comma, tab, colon or space separated)
            line = lines[index]
            sep = next((s for s in (b'\t', b',', b':', b' ') if s in line), None)
            fields = line.split(sep) if sep else [line]
            fields[rng.randrange(len(fields))] = _pick(_WORDS, rng.randrange(10 ** 6))
            lines[index] = (sep or b'').join(fields)
        return b'\n'.join(lines)
    raise ValueError(f'unknown byte operation {op!r}')


def _mutate_json_lines(data: bytes, param: int) -> bytes:
    """Replace one value of one JSON line by a value of another type (or drop a key)."""
    rng = random.Random(param)
    lines = data.split(b'\n')
    candidates = [i for i, line in enumerate(lines) if line.strip().startswith(b'{')]
    if not candidates:
        return data
    index = _pick(candidates, param)
    try:
        record = json.loads(lines[index])
    except ValueError:
        return data
    if not isinstance(record, dict) or not record:
        return data
    key = _pick(sorted(record), rng.randrange(10 ** 6))
    if rng.random() < 0.2:
        del record[key]
    else:
        record[key] = _pick(_JSON_VALUES, rng.randrange(10 ** 6))
    lines[index] = json.dumps(record).encode()
    return b'\n'.join(lines)


#: Every mutation operation (``structure`` changes the decoded object of binary formats).
MUTATIONS = ('truncate', 'empty', 'flip', 'insert', 'encoding', 'bad_utf8', 'cell',
             'line_drop', 'line_dup', 'line_swap', 'newlines', 'json_value', 'structure')


def mutate(data: bytes, operations: Sequence[Operation],
           structure: Optional[Callable[[bytes, int], bytes]] = None) -> bytes:
    """Apply ``operations`` in order to ``data`` (deterministic in the operations)."""
    for op, param in operations:
        if op == 'json_value':
            data = _mutate_json_lines(data, param)
        elif op == 'structure':
            data = structure(data, param) if structure else _mutate_bytes(data, 'flip', param)
        else:
            data = _mutate_bytes(data, op, param)
    return data


def random_operations(rng: random.Random, max_ops: int = 3) -> List[Operation]:
    return [(rng.choice(MUTATIONS), rng.randrange(2 ** 31)) for _ in range(rng.randint(1,
                                                                                      max_ops))]


# --------------------------------------------------------------------------- targets


@dataclass
class LoaderTarget:
    """One loader under fuzzing.

    ``write(folder) -> path`` writes a valid input (plus any files it needs) and returns the
    file to mutate; ``load(path)`` reads it the way vtt does; ``check(result)`` raises
    AssertionError when a load that returned is not a correct load; ``structure(data, param)``
    optionally mutates the decoded content of a binary format.
    """
    name: str
    write: Callable[[str], str]
    load: Callable[[str], Any]
    check: Callable[[Any], None] = lambda result: None
    structure: Optional[Callable[[bytes, int], bytes]] = None


def _finite(array, what: str) -> None:
    array = np.asarray(array, dtype=np.float64)
    assert np.isfinite(array).all(), f'{what} holds non-finite values after a successful load'


def _write_text(path: str, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)
    return path


# CSV, wide and long -------------------------------------------------------------------------

def _csv_wide(folder: str) -> str:
    rng = np.random.default_rng(0)
    rows = ['sample_id,label,' + ','.join(f'{v}_{t}' for v in ('NDVI', 'VV') for t in range(5))]
    for i in range(8):
        values = ','.join(f'{x:.3f}' for x in rng.normal(size=10))
        rows.append(f's{i},{("wheat", "corn")[i % 2]},{values}')
    return _write_text(osp.join(folder, 'wide.csv'), '\n'.join(rows) + '\n')


def _csv_long(folder: str) -> str:
    rng = np.random.default_rng(1)
    rows = ['sample_id,step,NDVI,VV,label']
    for i in range(6):
        for t in range(4):
            rows.append(f's{i},{t},{rng.normal():.3f},{rng.normal():.3f},{"ab"[i % 2]}')
    return _write_text(osp.join(folder, 'long.csv'), '\n'.join(rows) + '\n')


def _load_csv(layout: str):
    def load(path):
        from vtt.datasets.csv_timeseries import load_timeseries_csv
        return load_timeseries_csv(path, layout=layout, id_column='sample_id')
    return load


def _check_series(result) -> None:
    _finite(result['data'], 'data')
    assert result['data'].ndim == 3 and len(result['labels']) == result['data'].shape[0]


# UEA .ts and UCR .tsv -----------------------------------------------------------------------

def _ts(folder: str) -> str:
    rng = np.random.default_rng(2)
    lines = ['@problemName Fuzz', '@timeStamps false', '@missing false', '@univariate false',
             '@dimensions 2', '@equalLength true', '@seriesLength 6', '@classLabel true a b',
             '@data']
    for i in range(6):
        dims = [','.join(f'{x:.3f}' for x in rng.normal(size=6)) for _ in range(2)]
        lines.append(':'.join(dims) + f':{"ab"[i % 2]}')
    return _write_text(osp.join(folder, 'Fuzz_TRAIN.ts'), '\n'.join(lines) + '\n')


def _load_ts(path):
    from vtt.datasets.uea import load_ts_file
    return load_ts_file(path)


def _check_ts(result) -> None:
    assert len(result['series']) == len(result['labels']) > 0
    for series in result['series']:
        assert series.ndim == 2 and series.shape[1] > 0


def _tsv(folder: str) -> str:
    rng = np.random.default_rng(3)
    lines = ['\t'.join([str(i % 3 + 1)] + [f'{x:.3f}' for x in rng.normal(size=8)])
             for i in range(9)]
    return _write_text(osp.join(folder, 'Fuzz_TRAIN.tsv'), '\n'.join(lines) + '\n')


def _load_tsv(path):
    from vtt.datasets.ucr import load_ucr_tsv
    return load_ucr_tsv(path)


def _check_tsv(result) -> None:
    # NaN inside a series is a missing value (the dataset fills it); inf never is
    assert len(result['series']) == len(result['labels']) > 0
    for series in result['series']:
        assert series.ndim == 2 and series.shape[1] > 0 and not np.isinf(series).any()
        assert np.isfinite(series[:, -1]).all(), 'trailing NaN padding was not removed'


# TS-TCC .pt and checkpoints -----------------------------------------------------------------

def _pt_objects(param: int):
    import torch
    rng = random.Random(param)
    samples = torch.randn(6, 2, 8)
    labels = torch.arange(6) % 3
    variants = [
        lambda: dict(samples=samples, labels=labels),
        lambda: dict(samples=samples.numpy(), labels=labels.numpy()),
        lambda: dict(samples=samples),
        lambda: dict(labels=labels),
        lambda: dict(samples=samples.double(), labels=labels.float()),
        lambda: dict(samples=samples.masked_fill(torch.rand_like(samples) < 0.1, float('nan')),
                     labels=labels),
        lambda: dict(samples=samples * float('inf'), labels=labels),
        lambda: dict(samples=samples.to(torch.float16) * 1e4, labels=labels),
        lambda: dict(samples=samples[:, :, :0], labels=labels),
        lambda: dict(samples=samples[:0], labels=labels[:0]),
        lambda: dict(samples=samples, labels=labels[:3]),
        lambda: dict(samples=samples.reshape(-1), labels=labels),
        lambda: dict(samples=samples.unsqueeze(0), labels=labels),
        lambda: dict(samples='not a tensor', labels=labels),
        lambda: dict(samples=[[1.0, 2.0], [3.0]], labels=[0, 1]),
        lambda: dict(samples=samples, labels=labels.reshape(2, 3)),
        lambda: dict(samples=samples, labels=torch.full((6, ), 1e20)),
        lambda: dict(samples=samples.to(torch.complex64), labels=labels),
        lambda: dict(samples=samples.bool(), labels=labels),
        lambda: [samples, labels],
        lambda: samples,
        lambda: None,
        lambda: dict(samples=samples, labels=labels, extra={'nested': [1, 2, {'x': None}]}),
        lambda: dict(samples=np.array(['a', 'b']), labels=labels),
        lambda: dict(samples=samples, labels=np.array(['x'] * 6)),
    ]
    return rng.choice(variants)()


def _pt_structure(data: bytes, param: int) -> bytes:
    import torch
    buffer = io.BytesIO()
    torch.save(_pt_objects(param), buffer)
    return buffer.getvalue()


def _pt(folder: str) -> str:
    import torch
    path = osp.join(folder, 'train.pt')
    torch.save(dict(samples=torch.randn(6, 2, 8), labels=torch.arange(6) % 3), path)
    return path


def _load_pt(path):
    from vtt.datasets.tstcc import load_pt_split
    return load_pt_split(path)


def _check_pt(result) -> None:
    _finite(result['samples'], 'samples')
    assert result['samples'].ndim == 3 and len(result['labels']) == len(result['samples'])


def _checkpoint(folder: str) -> str:
    import torch
    path = osp.join(folder, 'epoch_1.pth')
    torch.save(dict(meta=dict(epoch=1, cfg='model = dict(type="X")'),
                    state_dict={'w': torch.randn(3, 2)}, message_hub=dict(
                        runtime_info=dict(best_score=np.float64(0.5)))), path)
    return path


def _load_checkpoint(path):
    from vtt.utils.compat import safe_torch_load
    return safe_torch_load(path)


# meteo: labels.yaml, labels.jsonl + images, detected elements -------------------------------

_LABELS_YAML = """elements:
  - id: isobar
    zh: 等压线
    en: isobar
    aliases: [pressure lines]
  - id: wind
    zh: 风
    en: wind barb
  - id: rain
    zh: 降水
    en: precipitation
products:
  - id: surface
    zh: 地面图
    elements: [isobar, wind]
  - id: rainfall
    zh: 降水图
    elements: [rain]
    optional_elements: [isobar]
"""


def _meteo_folder(folder: str) -> None:
    from PIL import Image
    os.makedirs(osp.join(folder, 'images'), exist_ok=True)
    for i in range(3):
        Image.new('RGB', (16, 12), (40 * i, 80, 120)).save(osp.join(folder, 'images',
                                                                     f'c{i}.png'))
    _write_text(osp.join(folder, 'labels.yaml'), _LABELS_YAML)


def _labels_jsonl(folder: str) -> str:
    _meteo_folder(folder)
    records = [
        dict(path='images/c0.png', is_meteo=1, labels=['isobar', 'wind'], product='surface'),
        dict(path='images/c1.png', is_meteo=1, labels=['rain'], product='rainfall',
             split='test'),
        dict(path='images/c2.png', is_meteo=0, labels=[], product=None),
    ]
    return _write_text(osp.join(folder, 'labels.jsonl'),
                       '\n'.join(json.dumps(r, ensure_ascii=False) for r in records) + '\n')


def _load_labels_jsonl(path):
    from vtt.datasets.meteo_charts import MeteoVocabulary, load_meteo_annotations
    vocab = MeteoVocabulary.from_yaml(osp.join(osp.dirname(path), 'labels.yaml'))
    return load_meteo_annotations(path, vocab, check_images=True)


def _check_records(result) -> None:
    for record in result:
        assert osp.isfile(record['path']) and record['is_meteo'] in (0, 1)


def _labels_yaml(folder: str) -> str:
    _meteo_folder(folder)
    return osp.join(folder, 'labels.yaml')


def _load_labels_yaml(path):
    from vtt.datasets.meteo_charts import MeteoVocabulary
    return MeteoVocabulary.from_yaml(path)


def _chart_image(folder: str) -> str:
    _labels_jsonl(folder)
    return osp.join(folder, 'images', 'c0.png')


def _load_chart_image(path):
    # the image is read through the annotation loader's check, then decoded as training does
    from vtt.datasets.meteo_charts import MeteoChartDataset
    folder = osp.dirname(osp.dirname(path))
    dataset = MeteoChartDataset(folder, split='all', task='gate', pipeline=[])
    return [dataset[i] for i in range(len(dataset))]


def _detected(folder: str) -> str:
    _meteo_folder(folder)
    lines = [dict(path='images/c0.png', gate=0.9, elements=[dict(id='isobar', score=0.8),
                                                            dict(id='wind', score=0.7)]),
             dict(path='images/c2.png', gate=0.1)]
    return _write_text(osp.join(folder, 'detected.jsonl'),
                       '\n'.join(json.dumps(x) for x in lines) + '\n')


def _load_detected(path):
    from vtt.datasets.meteo_charts import MeteoVocabulary
    from vtt.datasets.meteo_products import load_detected_elements
    vocab = MeteoVocabulary.from_yaml(osp.join(osp.dirname(path), 'labels.yaml'))
    return load_detected_elements(path, vocab)


# CMG: furnace .npz and the legacy HAPT pickle ------------------------------------------------

def _npz_objects(param: int) -> Dict[str, np.ndarray]:
    rng = random.Random(param)
    gen = np.random.default_rng(param % 1000)
    s, n, p = 2, 3, 4
    arrays = dict(current=gen.normal(size=(s, 3, n * p)), video=gen.normal(size=(s, n, 5)),
                  video_labels=gen.integers(0, 2, size=(s, n)))
    if param < 0:
        return arrays
    edits = [
        lambda a: a,
        lambda a: {k: v for k, v in a.items() if k != 'video'},
        lambda a: dict(a, current=a['current'][:, :2]),
        lambda a: dict(a, video=a['video'][:1]),
        lambda a: dict(a, video_labels=a['video_labels'][:, :1]),
        lambda a: dict(a, current=np.where(gen.random(a['current'].shape) < 0.2, np.nan,
                                           a['current'])),
        lambda a: dict(a, video=a['video'] * np.inf),
        lambda a: dict(a, video_labels=a['video_labels'] - 5),
        lambda a: dict(a, video_labels=a['video_labels'].astype(float) + 0.5),
        lambda a: dict(a, current=a['current'].astype('U8')),
        lambda a: dict(a, current=np.zeros((0, 3, 0))),
        lambda a: dict(a, video=a['video'].reshape(2, -1)),
        lambda a: dict(a, current=np.clip(a['current'] * 1e308, -np.inf, np.inf)),
    ]
    with np.errstate(over='ignore', invalid='ignore'):
        return rng.choice(edits)(arrays)


def _npz_structure(data: bytes, param: int) -> bytes:
    # param -1 (the valid file) keeps the arrays as generated
    buffer = io.BytesIO()
    np.savez(buffer, **_npz_objects(param))
    return buffer.getvalue()


def _furnace(folder: str) -> str:
    path = osp.join(folder, 'furnace.npz')
    with open(path, 'wb') as handle:
        handle.write(_npz_structure(b'', -1))
    return path


def _load_furnace(path):
    from vtt.datasets.furnace import load_furnace_npz
    return load_furnace_npz(path)


def _check_furnace(result) -> None:
    _finite(result['current'], 'current')
    _finite(result['video'], 'video')


def _hapt_pickle(folder: str) -> str:
    """A small pickle in the dialect vtt's restricted unpickler reads (protocol 1, plain
    containers; the real file, an old-pandas pickle, comes from the HAPT asset)."""
    import pickle
    path = osp.join(folder, 'hapt.pkl')
    gen = np.random.default_rng(4)
    with open(path, 'wb') as handle:
        pickle.dump(dict(acc=gen.normal(size=(10, 3)).tolist(), gyro=gen.normal(
            size=(10, 3)).tolist(), labels=[i % 3 for i in range(10)], name='hapt'), handle,
                    protocol=1)
    return path


def _load_hapt_pickle(path):
    from vtt.utils.legacy_pickle import restricted_loads
    with open(path, 'rb') as handle:
        return restricted_loads(handle.read(), source=path)


TARGETS: Dict[str, LoaderTarget] = {t.name: t for t in [
    LoaderTarget('csv_wide', _csv_wide, _load_csv('wide'), _check_series),
    LoaderTarget('csv_long', _csv_long, _load_csv('long'), _check_series),
    LoaderTarget('csv_auto', _csv_wide, _load_csv('auto'), _check_series),
    LoaderTarget('uea_ts', _ts, _load_ts, _check_ts),
    LoaderTarget('ucr_tsv', _tsv, _load_tsv, _check_tsv),
    LoaderTarget('tstcc_pt', _pt, _load_pt, _check_pt, _pt_structure),
    LoaderTarget('checkpoint', _checkpoint, _load_checkpoint),
    LoaderTarget('meteo_labels_yaml', _labels_yaml, _load_labels_yaml),
    LoaderTarget('meteo_labels_jsonl', _labels_jsonl, _load_labels_jsonl, _check_records),
    LoaderTarget('meteo_image', _chart_image, _load_chart_image),
    LoaderTarget('meteo_detected', _detected, _load_detected),
    LoaderTarget('cmg_furnace_npz', _furnace, _load_furnace, _check_furnace, _npz_structure),
    LoaderTarget('hapt_pickle', _hapt_pickle, _load_hapt_pickle),
]}


# --------------------------------------------------------------------------- one trial


@dataclass
class FuzzOutcome:
    """``kind``: 'loaded', 'rejected' (vtt's user error naming the file) or 'failure'."""
    target: str
    operations: List[Operation]
    kind: str
    detail: str = ''


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    if seconds is None or not hasattr(signal, 'SIGALRM'):
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_one(target: LoaderTarget, operations: Sequence[Operation],
             folder: Optional[str] = None, timeout: float = 20.0) -> FuzzOutcome:
    """Write ``target``'s valid input, mutate it with ``operations``, load it and classify
    the outcome (see the module docstring)."""
    from vtt.utils.errors import VttUserError
    operations = list(operations)
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix='vtt_fuzz_'))
        path = target.write(folder)
        with open(path, 'rb') as handle:
            original = handle.read()
        data = mutate(original, operations, target.structure)
        with open(path, 'wb') as handle:
            handle.write(data)
        try:
            with _time_limit(timeout):
                result = target.load(path)
        except _Timeout:
            return FuzzOutcome(target.name, operations, 'failure',
                               f'no answer within {timeout:.0f} s (a hang)')
        except VttUserError as error:
            message = str(error)
            if path not in message and osp.basename(path) not in message:
                return FuzzOutcome(target.name, operations, 'failure',
                                   f'{type(error).__name__} does not name the file: {message}')
            return FuzzOutcome(target.name, operations, 'rejected', message[:300])
        except Exception as error:  # anything else is exactly what this fuzzing looks for
            import traceback
            where = traceback.extract_tb(error.__traceback__)[-1]
            return FuzzOutcome(target.name, operations, 'failure',
                               f'{type(error).__name__}: {str(error)[:300]} (at '
                               f'{where.filename}:{where.lineno})')
        try:
            target.check(result)
        except AssertionError as error:
            return FuzzOutcome(target.name, operations, 'failure', f'bad load: {error}')
        return FuzzOutcome(target.name, operations, 'loaded')

