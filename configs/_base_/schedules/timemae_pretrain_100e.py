# Self-supervised pretraining: AdamW 1e-3, 100 epochs. There are no labels to validate
# against, so experiment configs switch validation and test off.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-2))
train_cfg = dict(by_epoch=True, max_epochs=100)
