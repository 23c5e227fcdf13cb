# Runtime shared by every experiment: hooks, logging, seeding, environment.
# The standard hooks are all named entries of `default_hooks`, so an experiment adds, changes
# or removes one (`default_hooks = dict(confusion_matrix=None)`) without re-typing the list.
default_scope = 'vtt'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Latest checkpoint every epoch (older ones removed) plus the best by the schedule's
    # monitored metric; `save_best` is set by the schedule/experiment config.
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # the epoch for datasets whose draws advance per epoch (so a resume draws the same)
    dataset_epoch=dict(type='DatasetEpochHook'),
    # progress bar with rate and ETA on a terminal; plain log lines otherwise
    progress=dict(type='RichProgressHook'),
    # normalisation statistics and class counts from the training split, into the model
    train_stats=dict(type='TrainStatsHook'),
    # RNG states in checkpoints, so a resumed run matches an uninterrupted one
    rng_state=dict(type='RNGStateHook'),
    # a NaN/inf loss stops training naming the iteration and term (or action='skip')
    nonfinite_loss=dict(type='NonFiniteLossHook', action='stop'),
    # versions in each checkpoint; loading one says which model-config keys differ
    provenance=dict(type='CheckpointProvenanceHook'),
    # after testing: the confusion matrix as JSON + PNG (a no-op for runs without a test)
    confusion_matrix=dict(type='ConfusionMatrixHook'),
    # size and hit rate of a frozen-feature cache (TimesCLIP), per epoch; a no-op without one
    feature_cache=dict(type='FeatureCacheReportHook'),
)
custom_hooks = []

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

# mmengine averages every logged key matching `mean_pattern` over the last 10 logs, meant for
# training losses and timings; its default pattern also catches validation metrics named
# '*log_loss*', so the logs (and the plots of tools/analyze_logs.py) showed a running mean of
# past epochs instead of the epoch's value. Metric names with log_loss are logged as they are.
log_processor = dict(by_epoch=True,
                     mean_pattern=r'^(?!.*log_loss).*(loss|time|data_time|grad_norm).*')
log_level = 'INFO'

load_from = None
resume = False

randomness = dict(seed=42, deterministic=False)
