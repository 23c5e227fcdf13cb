# TEMPLATE: fine-tune the HAR-pretrained TimeMAE backbone (see har_pretrain.py for the data).
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/datasets/tstcc_har.py',
    '../_base_/schedules/timemae_finetune_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    num_classes=6,
    data_preprocessor=dict(num_variates=9),
    backbone=dict(init_cfg=dict(type='Pretrained', prefix='backbone.',
                                checkpoint='work_dirs/har_pretrain/epoch_100.pth')),
)
default_hooks = dict(checkpoint=dict(interval=25, save_last=True, save_best='cls/log_loss',
                                     rule='less'))
