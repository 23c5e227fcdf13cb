# TEMPLATE: fine-tune the HAR-pretrained TimeMAE encoder (see har_pretrain.py for the data).
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/schedules/timemae_finetune_100e.py',
    '../_base_/default_runtime.py',
]

har = dict(type='HARPtDataset', data_root='data/HAR')
model = dict(
    num_classes=6,
    pretrained='work_dirs/har_pretrain/epoch_100.pth',
    data_preprocessor=dict(num_variates=9),
    window_slicer=dict(in_channels=9),
)
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))
train_dataloader = dict(**loader, batch_size=128,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**har, split='train'))
val_dataloader = dict(**loader, batch_size=256,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**har, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**har, split='test'))
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')

default_hooks = dict(checkpoint=dict(interval=25, save_last=True, save_best='cls/log_loss',
                                     rule='less'))
custom_hooks = [
    dict(type='TrainStatsHook'),
    dict(type='RNGStateHook'),
    dict(type='ConfusionMatrixHook'),
]
