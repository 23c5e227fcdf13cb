import math
from typing import Dict, List

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from vtt.registry import HOOKS
from vtt.utils.errors import ConfigError, NonFiniteLossError

__all__ = ['NonFiniteLossHook']


def _non_finite_terms(losses: Dict) -> List[str]:
    """Names of the loss terms (keys containing 'loss', as mmengine sums them) that hold NaN
    or inf, with the offending value."""
    bad = []
    for name, value in losses.items():
        if 'loss' not in name:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            item = torch.as_tensor(item).detach()
            if not bool(torch.isfinite(item).all()):
                worst = item[~torch.isfinite(item)].flatten()[0].item()
                bad.append(f'{name}={worst}')
                break
    return bad


def _any_rank(flag: bool) -> bool:
    """True on every rank if ``flag`` is true on any (ranks must skip or stop together, or
    the next gradient all-reduce waits forever)."""
    from mmengine.dist import get_world_size
    if get_world_size() < 2:
        return flag
    import torch.distributed as dist
    tensor = torch.tensor([float(flag)])
    dist.all_reduce(tensor)
    return bool(tensor.item() > 0)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop (or skip the step) when a training loss becomes NaN or infinite.

    Without it, one NaN step writes NaN into every weight and the run silently trains garbage
    from then on, and the next checkpoints save it. The hook checks the loss terms each
    training iteration BEFORE the optimizer step:

    * ``action='stop'`` (default): raise :class:`NonFiniteLossError` naming the iteration, the
      epoch, the non-finite term(s) and the last checkpoint, which was written before the bad
      step and is kept (the CLI prints it as one line).
    * ``action='skip'``: drop that step (no backward, no optimizer update), log a warning, and
      stop as above after ``max_consecutive_skips`` skipped steps in a row.

    It wraps the model's ``parse_losses`` (where mmengine sums the terms; every vtt algorithm
    goes through it) and the optimizer wrapper's ``update_params``; under DDP all ranks agree
    on a skip or stop.
    """

    priority = 'VERY_HIGH'

    def __init__(self, action: str = 'stop', max_consecutive_skips: int = 20):
        if action not in ('stop', 'skip'):
            raise ConfigError(f"NonFiniteLossHook: action must be 'stop' or 'skip', got "
                              f'{action!r}')
        self.action = action
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.skipped = 0
        self._consecutive = 0
        self._bad: List[str] = []
        self._runner = None

    def before_train(self, runner) -> None:
        self._runner = runner
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        parse_losses = model.parse_losses

        def checked_parse_losses(losses):
            parsed, log_vars = parse_losses(losses)
            # one check of the total on the hot path (a NaN or inf in any term makes it
            # non-finite); the terms are looked at only to name the culprit
            total = float(parsed.detach())
            bad = [] if math.isfinite(total) else (_non_finite_terms(losses)
                                                   or [f'loss={total}'])
            self._bad = bad if _any_rank(bool(bad)) else []
            if self._bad and self.action == 'stop':
                self._stop(runner)
            return parsed, log_vars

        model.parse_losses = checked_parse_losses
        wrappers = (runner.optim_wrapper.values() if hasattr(runner.optim_wrapper, 'values')
                    else [runner.optim_wrapper])
        for wrapper in wrappers:
            wrapper.update_params = self._guard(wrapper, wrapper.update_params)

    def _guard(self, wrapper, update_params):
        def guarded_update_params(loss, *args, **kwargs):
            if not self._bad:
                self._consecutive = 0
                return update_params(loss, *args, **kwargs)
            self.skipped += 1
            self._consecutive += 1
            runner = self._runner
            runner.logger.warning(
                f'skipped training step at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): non-finite {", ".join(self._bad)} '
                f'({self.skipped} skipped so far)')
            wrapper.zero_grad()
            if self._consecutive >= self.max_consecutive_skips:
                self._stop(runner, f' after {self._consecutive} skipped steps in a row')
            self._bad = []
        return guarded_update_params

    def _stop(self, runner, extra: str = '') -> None:
        last = runner.message_hub.get_info('last_ckpt')
        kept = (f'the last checkpoint, {last}, was written before it and is kept'
                if last else 'no checkpoint had been written yet')
        raise NonFiniteLossError(
            f'training stopped at iteration {runner.iter + 1} (epoch {runner.epoch + 1}){extra}:'
            f' non-finite loss term {", ".join(self._bad)}; {kept}. Lower the learning rate, '
            'look for NaN/inf in the inputs, or set default_hooks.nonfinite_loss.action='
            "'skip' to skip such steps.")
