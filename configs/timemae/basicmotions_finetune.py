# Fine-tune the TimeMAE backbone pretrained by basicmotions_pretrain.py on BasicMotions
# (4 classes): backbone + linear head trained end to end; selection on the validation split
# (carved from TRAIN). Train from scratch with --cfg-options model.backbone.init_cfg=None.
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/datasets/uea.py',
    '../_base_/schedules/timemae_finetune_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    num_classes=4,
    freeze_backbone=False,
    data_preprocessor=dict(num_variates=6),
    backbone=dict(
        # window 4 and small positions, as basicmotions_pretrain.py
        window_slicer=dict(window=4, position_init_std=0.02),
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/basicmotions_pretrain/epoch_100.pth',
                      prefix='backbone.')),
)
train_dataloader = dict(batch_size=32, dataset=dict(name='BasicMotions'))
val_dataloader = dict(dataset=dict(name='BasicMotions'))
test_dataloader = dict(dataset=dict(name='BasicMotions'))

default_hooks = dict(checkpoint=dict(interval=25, save_last=True, save_best='cls/log_loss',
                                     rule='less'))
