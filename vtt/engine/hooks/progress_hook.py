import sys
from typing import Optional, Union

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from vtt.registry import HOOKS

__all__ = ['RichProgressHook']


def _progress(console=None):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Iterations per second (rich's own speed column is for bytes)."""

        def render(self, task):
            return Text(f'{task.speed:.2f} it/s' if task.speed else '-- it/s')

    return Progress(TextColumn('[bold]{task.description}'), BarColumn(), MofNCompleteColumn(),
                    RateColumn(), TextColumn('elapsed'), TimeElapsedColumn(), TextColumn('eta'),
                    TimeRemainingColumn(), TextColumn('{task.fields[status]}'),
                    console=console, transient=False)


@HOOKS.register_module()
class RichProgressHook(Hook):
    """A rich progress bar (count, rate, elapsed, ETA, current loss) for every training,
    validation and test epoch.

    Only on an interactive terminal (``enabled='auto'``) and only on the main process; in CI or
    when output goes to a file, it stays silent and ``LoggerHook``'s plain lines are the
    progress report.

    Args:
        enabled (bool | str): ``'auto'`` (terminal only), True or False.
        console (rich.console.Console, optional): Where to draw (default: stdout).
    """

    priority = 'LOW'

    def __init__(self, enabled: Union[bool, str] = 'auto', console=None):
        if enabled not in (True, False, 'auto'):
            raise ValueError(f"enabled must be True, False or 'auto', got {enabled!r}")
        self.enabled = enabled
        self.console = console
        self._progress = None
        self._task = None

    def _active(self) -> bool:
        if not is_main_process() or self.enabled is False:
            return False
        if self.enabled == 'auto':
            stream = self.console.file if self.console is not None else sys.stdout
            return bool(getattr(stream, 'isatty', lambda: False)())
        return True

    def _start(self, description: str, total: Optional[int]) -> None:
        if not self._active():
            return
        self._stop()
        self._progress = _progress(self.console)
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, status='')

    def _advance(self, outputs=None) -> None:
        if self._progress is None:
            return
        status = ''
        if isinstance(outputs, dict) and 'loss' in outputs:
            loss = outputs['loss']
            status = f'loss {float(loss.detach() if hasattr(loss, "detach") else loss):.4f}'
        self._progress.update(self._task, advance=1, status=status)

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def before_train_epoch(self, runner) -> None:
        self._start(f'train {runner.epoch + 1}/{runner.max_epochs}', len(runner.train_dataloader))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._advance(outputs)

    def after_train_epoch(self, runner) -> None:
        self._stop()

    def before_val_epoch(self, runner) -> None:
        self._start('val', len(runner.val_dataloader))

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._advance()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._stop()

    def before_test_epoch(self, runner) -> None:
        self._start('test', len(runner.test_dataloader))

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._advance()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._stop()
