# Fine-tune the TimeMAE backbone pretrained by har_pretrain.py on HAR (UCI-HAR-style windows
# from the raw HAPT recordings, 6 classes; see _base_/datasets/hapt_har.py): backbone + linear
# head trained end to end on the 'train' subjects, selection on the 'val' subjects, 'test' =
# UCI HAR's test subjects. Train from scratch with --cfg-options model.backbone.init_cfg=None.
# For HAR in the TS-TCC .pt layout, use '../_base_/datasets/tstcc_har.py' instead.
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/datasets/hapt_har.py',
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
