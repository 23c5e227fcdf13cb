# The gate's two-phase transfer: the head alone for `unfreeze_epoch` epochs at lr 1e-3, then
# everything, the backbone at 1e-4 (lr_mult 0.1) and the head at 1e-3; cosine to 1e-6 over the
# run. The phase switch is the experiment's BackboneUnfreezeHook (custom_hooks).
max_epochs = 30

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-6, convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()

