from mmengine.hooks import Hook

from vtt.registry import HOOKS

from .utils import unwrapped_model

__all__ = ['FeatureCacheReportHook']


@HOOKS.register_module()
class FeatureCacheReportHook(Hook):
    """Log the model's frozen-feature cache after every training epoch: entries, hits and
    misses, rows read from / written to disk and its size on disk. A no-op for models without
    a cache (any ``model.<attr>`` with a ``report()``).

    Args:
        attr (str): Model attribute of the cache. Defaults to ``'vision_cache'`` (TimesCLIP).
    """

    priority = 'LOW'

    def __init__(self, attr: str = 'vision_cache'):
        self.attr = attr

    def after_train_epoch(self, runner) -> None:
        cache = getattr(unwrapped_model(runner), self.attr, None)
        if cache is None or not hasattr(cache, 'report'):
            return
        info = cache.report()
        text = (f'feature cache: {info["entries"]} entries, {info["hits"]} hits, '
                f'{info["misses"]} misses')
        if 'directory' in info:
            text += (f'; disk {info.get("disk_bytes", 0) / 2**20:.1f} MiB in '
                     f'{info.get("shards", 0)} shards for this model '
                     f'({info["disk_bytes_total"] / 2**20:.1f} MiB in {info["directory"]}), '
                     f'{info["loaded"]} rows read, {info["written"]} written')
        runner.logger.info(text)
