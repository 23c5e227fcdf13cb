# Classifier on a TimeMAE backbone: the backbone of timemae_backbone.py + a linear head
# (cross-entropy) on the mean-pooled windows. Pretrained weights come through the backbone's
# init_cfg: dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.') (unset = scratch).
# model.freeze_backbone = True for the linear probe.
_base_ = ['./timemae_backbone.py']

model = dict(
    type='TimeMAEClassifier',
    num_classes=4,
    freeze_backbone=False,
    head=dict(type='LinearClsHead', dropout=0.0,
              loss=dict(type='CrossEntropyLoss', label_smoothing=0.0)),
)
