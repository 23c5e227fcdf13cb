"""The runtime's log processor logs validation metrics as measured (not smoothed)."""
import os.path as osp

from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import LogProcessor

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_validation_log_loss_is_logged_per_epoch_not_averaged():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'default_runtime.py'))
    processor = LogProcessor(**cfg.log_processor)
    hub = MessageHub.get_instance('log_processor_test')
    for epoch_value in (0.9, 0.5, 0.1):  # three validations
        hub.update_scalar('val/cls/log_loss', epoch_value)
        hub.update_scalar('val/binary/log_loss', epoch_value)
        hub.update_scalar('val/time', 1.0)
    for epoch_value in (2.0, 1.0):  # training losses stay smoothed
        hub.update_scalar('train/loss', epoch_value)

    class Runner:
        message_hub = hub

    val = processor._collect_scalars(processor._parse_windows_size(Runner, 0, []), Runner,
                                     'val')
    assert val['cls/log_loss'] == val['binary/log_loss'] == 0.1
    train = processor._collect_scalars(processor._parse_windows_size(Runner, 0, []), Runner,
                                       'train')
    assert train['loss'] == 1.5
