# Self-supervised pretraining: AdamW 1e-3, 100 epochs. There are no labels to validate
# against, so experiment configs switch validation and test off.
# foreach=True: torch only defaults to the multi-tensor AdamW on CUDA; on CPU the per-parameter
# loop costs about a quarter of a step of this small model.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-2, foreach=True))
train_cfg = dict(by_epoch=True, max_epochs=100)
