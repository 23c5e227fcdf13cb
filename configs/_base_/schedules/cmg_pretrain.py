# CMG pretraining as the official code: Adam 4e-4, gradient clipping at norm 0.5. Self-
# supervised: experiment configs switch validation and test off (the downstream configs
# evaluate).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=4e-4),
                     clip_grad=dict(max_norm=0.5))
train_cfg = dict(by_epoch=True, max_epochs=100)
