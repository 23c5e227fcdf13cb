# Offline CPU demo of the gate (gate_resnet18.py) on SYNTHETIC charts:
# - Data: 480 synthetic weather charts of 12 products and 240 non-weather images, 60% of them
#   HARD negatives (business line/bar charts with legends and titles, smooth colour fields),
#   generated (deterministically) into data/meteo_demo/ on first use - not real charts.
# - Backbone: torchvision MobileNetV2 with REAL ImageNet weights (bundled offline) instead of
#   timm ResNet-18, whose weights do not ship offline; fine-tuned after 2 head-only epochs.
# - 8 epochs (2 head-only) instead of 30; images 320 x 240 as in the real config.
# From random initialisation instead (to see what transfer adds):
#   python tools/train.py configs/meteo/gate_demo.py \
#       --cfg-options model.backbone.pretrained=None --work-dir work_dirs/gate_demo_scratch
_base_ = ['./gate_resnet18.py']

demo_data = dict(type='SyntheticMeteoChartDataset', data_root='data/meteo_demo',
                 generator=dict(seed=0, num_meteo=480, num_negative=240))
train_dataloader = dict(dataset=demo_data)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)

model = dict(backbone=dict(_delete_=True, type='MobileNetV2Encoder', pretrained='imagenet',
                           frozen=False, out_type='pooled', image_size=None))
max_epochs = 8
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-6, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    dict(type='BackboneUnfreezeHook', unfreeze_epoch=2),
    dict(type='ThresholdCalibrationHook'),
]
