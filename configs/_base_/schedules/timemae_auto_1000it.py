# The data-aware TimeMAE protocol's schedule (pretraining and fine-tuning alike): AdamW, a
# 10% linear warm-up then cosine decay, counted in optimizer steps. 1000 steps here;
# vtt.apis.recipe_cfg_options sets the step count, learning rate and epochs for a dataset.
# foreach=True: the multi-tensor AdamW, which torch only picks by itself on CUDA.
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-2, foreach=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.04, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=1000, T_max=900,
         eta_min=1e-6),
]
