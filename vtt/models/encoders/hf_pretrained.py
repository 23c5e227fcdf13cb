"""Loading of Hugging Face backbones with a helpful error when weights are not available."""
import os
from typing import Callable, Optional


class PretrainedWeightsNotFoundError(OSError):
    """Weights named by a config could not be loaded from a local directory or the hub."""


def load_pretrained(loader: Callable, pretrained: str, what: str, config_key: str,
                    local_files_only: bool = False, **kwargs):
    """Call ``loader(pretrained, ...)`` (a ``from_pretrained``) and turn a failure to find the
    weights into an error that says what is missing and how to point the config at it.

    Args:
        loader: e.g. ``CLIPVisionModelWithProjection.from_pretrained``.
        pretrained (str): Hub id (``openai/clip-vit-base-patch16``) or local directory.
        what (str): Human name of the component, for the message.
        config_key (str): Config key that holds ``pretrained``, for the message.
        local_files_only (bool): Do not try the hub (offline use).
    """
    is_dir = os.path.isdir(os.path.expanduser(str(pretrained)))
    try:
        return loader(os.path.expanduser(str(pretrained)) if is_dir else pretrained,
                      local_files_only=local_files_only, **kwargs)
    except (OSError, ValueError) as error:
        if is_dir:
            hint = (f'the directory {pretrained!r} exists but does not hold a loadable model '
                    f'({error}). It should contain config.json and model.safetensors as written '
                    'by `save_pretrained`.')
        else:
            hint = (f'{pretrained!r} is not a local directory, and the Hugging Face hub is not '
                    f'reachable or has no cached copy ({type(error).__name__}). On a machine '
                    f'with internet run `hf download {pretrained} --local-dir DIR` (or '
                    '`save_pretrained(DIR)`), copy DIR here and point the config at it.')
        raise PretrainedWeightsNotFoundError(
            f'cannot load the {what} weights: {hint} Set it with '
            f'`--cfg-options {config_key}=DIR`, or `{config_key}=None` to build a randomly '
            'initialised model from the `config` dict (tests / offline demo).') from None


def build_hf_config(config_cls, config: Optional[dict]):
    """An HF config object from a plain dict (``None`` gives the class defaults)."""
    return config_cls(**(config or {}))
