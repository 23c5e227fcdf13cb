from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['ThresholdCalibrationHook']


@HOOKS.register_module()
class ThresholdCalibrationHook(Hook):
    """Store the validation split's best-F1 threshold in the model after every validation.

    Reads ``<metric_key>`` (default ``binary/best_threshold``, from ``BinaryClsMetric``; a list
    of per-label thresholds such as ``parallel/thresholds`` from ``MultiLabelMetric(
    calibrate=True)`` works the same) from the validation metrics and calls
    ``model.<head_attr>.set_threshold(value)``. The threshold
    is a buffer of the head, so the checkpoint saved after this validation (``save_best``, which
    runs at a lower priority than this hook) carries it, and ``tools/test.py`` applies it to
    TEST without looking at TEST. Thresholds are never fitted on the test split: the hook acts
    on validation only.

    Args:
        metric_key (str): Validation metric with the threshold.
        head_attr (str): Attribute of the model holding a head with ``set_threshold``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, metric_key: str = 'binary/best_threshold', head_attr: str = 'head'):
        self.metric_key = metric_key
        self.head_attr = head_attr

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not metrics or self.metric_key not in metrics:
            runner.logger.warning(f'ThresholdCalibrationHook: no {self.metric_key!r} in the '
                                  f'validation metrics; threshold unchanged')
            return
        model = unwrapped_model(runner)
        head = getattr(model, self.head_attr)
        value = metrics[self.metric_key]
        if isinstance(value, (list, tuple)):
            value = [min(max(float(v), 1e-4), 1 - 1e-4) for v in value]
            shown = '[' + ', '.join(f'{v:.3f}' for v in value) + ']'
        else:
            value = min(max(float(value), 1e-4), 1 - 1e-4)
            shown = f'{value:.4f}'
        head.set_threshold(value)
        runner.logger.info(f'ThresholdCalibrationHook: threshold {shown} (best F1 on val)')
