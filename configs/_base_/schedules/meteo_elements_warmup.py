# The CNN-RNN's two phases (meteo plan): `warmup_epochs` with the CNN frozen and the RNN side
# at lr 2e-3, then everything, the CNN at 1e-4 and the RNN side at 5e-4 (one step of x0.25 at
# the switch; the CNN's lr_mult 0.2 gives 2e-3 * 0.2 * 0.25 = 1e-4). The freezing itself is
# the experiment's BackboneUnfreezeHook(unfreeze_epoch=warmup_epochs) (custom_hooks).
max_epochs = 30
warmup_epochs = 5

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.2)}),
    clip_grad=dict(max_norm=5.0))  # the LSTM's gradients, as usual for RNNs
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[warmup_epochs],
                        gamma=0.25)]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
