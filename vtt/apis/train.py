"""Helpers around mmengine's Runner shared by the command-line tools."""
import os.path as osp

__all__ = ['test_best_checkpoint']


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
