from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['TeacherForcingHook']


@HOOKS.register_module()
class TeacherForcingHook(Hook):
    """Decay a sequence head's teacher-forcing probability linearly over the epochs.

    ``p(epoch) = max(end, start - (start - end) * epoch / decay_epochs)``, set on
    ``model.<head_attr>.teacher_forcing`` before every training epoch (the meteo CNN-RNN: 1.0
    -> 0.7). The value follows the epoch counter, so a resumed run continues the schedule.

    Args:
        start (float): Probability in the first epoch. Defaults to 1.0.
        end (float): Final probability. Defaults to 0.7.
        decay_epochs (int, optional): Epochs to go from ``start`` to ``end``. Defaults to the
            run's ``max_epochs``.
        head_attr (str): Model attribute holding the head. Defaults to ``'head'``.
    """

    priority = 'NORMAL'

    def __init__(self, start: float = 1.0, end: float = 0.7, decay_epochs=None,
                 head_attr: str = 'head'):
        if not (0.0 <= end <= 1.0 and 0.0 <= start <= 1.0):
            raise ValueError(f'start and end must be probabilities, got {start} and {end}')
        if decay_epochs is not None and decay_epochs < 1:
            raise ValueError(f'decay_epochs must be positive, got {decay_epochs}')
        self.start, self.end = float(start), float(end)
        self.decay_epochs = decay_epochs
        self.head_attr = head_attr

    def value(self, epoch: int, max_epochs: int) -> float:
        span = self.decay_epochs or max(max_epochs - 1, 1)
        progress = min(epoch / span, 1.0)
        return self.start + (self.end - self.start) * progress

    def before_train_epoch(self, runner) -> None:
        head = getattr(unwrapped_model(runner), self.head_attr)
        if not hasattr(head, 'teacher_forcing'):
            raise AttributeError(f'TeacherForcingHook: model.{self.head_attr} '
                                 f'({type(head).__name__}) has no teacher_forcing attribute')
        head.teacher_forcing = self.value(runner.epoch, runner.max_epochs)
