"""Any torchvision ``transforms.v2`` transform as a registered vtt transform."""
from vtt.registry import TRANSFORMS
from vtt.utils.errors import ConfigError

__all__ = ['TorchVisionTransform']


@TRANSFORMS.register_module()
class TorchVisionTransform:
    """Apply ``torchvision.transforms.v2.<transform>(**kwargs)`` to ``results['img']`` (a PIL
    image or an image tensor), so configs use torchvision's transforms instead of copies.

    Example: ``dict(type='TorchVisionTransform', transform='Resize', size=(240, 320))``.

    Args:
        transform (str): A class name in ``torchvision.transforms.v2``.
        **kwargs: Its constructor arguments.
    """

    def __init__(self, transform: str, **kwargs):
        from torchvision.transforms import v2
        if not hasattr(v2, transform):
            raise ConfigError(f'TorchVisionTransform: torchvision.transforms.v2 has no '
                              f'{transform!r}')
        self.name = transform
        self.transform = getattr(v2, transform)(**kwargs)

    def __call__(self, results: dict) -> dict:
        results['img'] = self.transform(results['img'])
        return results

    def __repr__(self) -> str:
        return f'TorchVisionTransform({self.transform!r})'
