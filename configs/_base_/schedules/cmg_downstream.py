# CMG downstream: only the head trains (Adam 1e-3), validation on the TRAINING modality every
# epoch, the best checkpoint by validation log-loss is tested once.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
