from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['TemperatureScalingHook']


@HOOKS.register_module()
class TemperatureScalingHook(Hook):
    """Store the validation split's fitted softmax temperature in the model.

    Reads ``<metric_key>`` (default ``product/temperature``, from ``CandidateRankingMetric(
    fit_temperature=True)``) after every validation and writes it into the model's
    ``temperature`` buffer, so the checkpoint saved after this validation (``save_best`` runs
    at a lower priority) carries it and ``tools/test.py`` reports test probabilities at a
    temperature that never saw the test split.

    Args:
        metric_key (str): The validation metric holding the temperature.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, metric_key: str = 'product/temperature'):
        self.metric_key = metric_key

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not metrics or self.metric_key not in metrics:
            runner.logger.warning(f'TemperatureScalingHook: no {self.metric_key!r} in the '
                                  f'validation metrics; temperature unchanged')
            return
        model = unwrapped_model(runner)
        if not hasattr(model, 'temperature'):
            raise AttributeError(f'TemperatureScalingHook: {type(model).__name__} has no '
                                 f'temperature buffer')
        value = float(metrics[self.metric_key])
        model.temperature.fill_(value)
        runner.logger.info(f'TemperatureScalingHook: temperature {value:.3f} (fitted on val)')
