# Downstream training (linear probe or fine-tuning): AdamW 1e-3 with cosine decay, 100 epochs,
# validation every epoch; the best checkpoint by validation log-loss (smooth where accuracy on
# a small validation split ties) is the one tested.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-2, foreach=True))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=100, eta_min=1e-5)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
