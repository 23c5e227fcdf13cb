# Offline CPU demo of the element recogniser (elements_cnnrnn_r50.py) on SYNTHETIC charts:
# - Data: the 480 synthetic weather charts of the gate demo (data/meteo_demo/, generated
#   deterministically on first use; 9 elements, 12 products) - not real charts.
# - Backbone: torchvision MobileNetV2 with REAL ImageNet weights (bundled offline) instead of
#   timm ResNet-50, whose weights do not ship offline (1280-d features instead of 2048).
# - 8 epochs (2 with the CNN frozen) instead of 30, batch 16; images 320 x 240 as in the
#   real config; everything else (head, losses, schedules, beam search) as the real config.
# From random initialisation instead (to see what transfer adds):
#   python tools/train.py configs/meteo/elements_demo.py \
#       --cfg-options model.backbone.pretrained=None --work-dir work_dirs/elements_demo_scratch
_base_ = ['./elements_cnnrnn_r50.py']

demo_data = dict(type='SyntheticMeteoChartDataset', data_root='data/meteo_demo',
                 generator=dict(seed=0, num_meteo=480, num_negative=240))
train_dataloader = dict(batch_size=16, dataset=demo_data)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)

model = dict(backbone=dict(_delete_=True, type='MobileNetV2Encoder', pretrained='imagenet',
                           frozen=False, out_type='pooled', image_size=None))
max_epochs = 8
warmup_epochs = 2
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[warmup_epochs],
                        gamma=0.25)]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    dict(type='BackboneUnfreezeHook', unfreeze_epoch=warmup_epochs),
    dict(type='TeacherForcingHook', start=1.0, end=0.7),
    dict(type='ThresholdCalibrationHook', metric_key='parallel/thresholds'),
]
