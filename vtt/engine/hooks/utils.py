from mmengine.model import is_model_wrapper

__all__ = ['unwrapped_model']


def unwrapped_model(runner):
    """The runner's model without its DDP / data-parallel wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model
