# The yield seed's training strategy: AdamW 1e-4 / wd 1e-5, grad-norm clip 1.0,
# ReduceLROnPlateau on validation RMSE (factor 0.5, patience 5), at most 100 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-5),
    clip_grad=dict(max_norm=1.0),
)

param_scheduler = dict(
    type='ReduceOnPlateauLR',
    monitor='regression/rmse',
    rule='less',
    factor=0.5,
    patience=5,
    by_epoch=True,
)

train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
