"""Helpers around mmengine's Runner shared by the command-line tools."""
import os.path as osp

__all__ = ['test_best_checkpoint', 'configure_run']


def test_best_checkpoint(runner, print_table: bool = True) -> dict:
    """Evaluate the best checkpoint recorded by ``CheckpointHook(save_best=...)`` (else the final
    weights) on the test split; print a table and write ``test_metrics.json`` in the work dir.
    Returns the metrics."""
    from mmengine.dist import is_main_process

    from vtt.utils.io import dump_json_atomic
    from vtt.utils.summary import print_metrics, scalar_metrics

    best = runner.message_hub.get_info('best_ckpt')
    if best and osp.isfile(best):
        runner.logger.info(f'Testing the best checkpoint {best}')
        runner.load_checkpoint(best)
    else:
        runner.logger.info('No best checkpoint recorded; testing the final weights')
    metrics = runner.test()
    if is_main_process():
        if print_table:
            classes = getattr(runner.test_dataloader.dataset, 'metainfo', {}).get('classes')
            print_metrics(metrics, classes=classes,
                          title=f'Test metrics ({osp.basename(best) if best else "final"})')
        out = osp.join(runner.work_dir, 'test_metrics.json')
        dump_json_atomic(dict(checkpoint=best, metrics=scalar_metrics(metrics)), out)
        runner.logger.info(f'Test metrics saved to {out}')
    return metrics


def configure_run(cfg, work_dir: str, seed: int = 42, max_epochs=None, quiet: bool = True):
    """Prepare ``cfg`` for one run of a sweep or benchmark (an early curve's length, a grid's
    ablation, a benchmark's dataset): its own work dir, the seed, optionally fewer epochs, a
    unique experiment name (runs of one process must not share mmengine's logger), WARNING-level
    logs unless ``quiet`` is False, and ``default_hooks`` entries set to None removed. Returns
    ``cfg``."""
    import time
    import uuid

    from vtt.utils.cli import drop_disabled_hooks
    if max_epochs is not None:
        cfg.train_cfg.max_epochs = max_epochs
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.experiment_name = (f'{osp.basename(osp.normpath(work_dir))}_'
                           f'{time.strftime("%Y%m%d_%H%M%S")}_{uuid.uuid4().hex[:6]}')
    if quiet:
        cfg.log_level = 'WARNING'
    drop_disabled_hooks(cfg)
    return cfg
