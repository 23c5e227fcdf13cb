# Meteo stage 1, the gate (is it a weather chart?), with the plan's real settings: timm
# ResNet-18 from ImageNet weights, one logit, 320 x 240 input, 0.7 BCE + 0.3 focal (gamma 2),
# class-balanced batches, 5 head-only epochs then all layers (backbone 1e-4 / head 1e-3),
# cosine to 1e-6, threshold calibrated on validation.
#
# Needs (both missing on a fresh machine, and the run stops with a message naming them):
#   data/meteo/            your charts in the data contract (images/, labels.jsonl, labels.yaml,
#                          logos/); see docs/research_lines/meteo.md
#   checkpoints/resnet18/  timm ResNet-18 ImageNet weights (model.safetensors), e.g. saved on a
#                          machine with network access by
#                          timm.models.save_for_hf(timm.create_model('resnet18.a1_in1k',
#                          pretrained=True), 'checkpoints/resnet18')
#                          or set model.backbone.pretrained='hf-hub:timm/resnet18.a1_in1k'
_base_ = [
    '../_base_/datasets/meteo_gate.py',
    '../_base_/schedules/meteo_gate_transfer.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='TimmEncoder', model_name='resnet18', pretrained='checkpoints/resnet18'),
    head=dict(type='BinaryClsHead', loss=dict(type='BCEFocalLoss', bce_weight=0.7, gamma=2.0)),
)
# The threshold is calibrated on validation (best F1) after every validation and saved with
# the checkpoint of the lowest validation log-loss (AUC saturates at 1.0 and ties), which
# tools/train.py then tests.
default_hooks = dict(
    checkpoint=dict(save_best='binary/log_loss', rule='less'),
    confusion_matrix=None,  # a single-label multi-class plot; the gate reports AUC/F1/EER
)
custom_hooks = [
    dict(type='BackboneUnfreezeHook', unfreeze_epoch=5),
    dict(type='ThresholdCalibrationHook'),
]
