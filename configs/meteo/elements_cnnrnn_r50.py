# Meteo stage 2, the element recogniser (multi-label), with the plan's real settings: the
# CNN-RNN of Wang et al. (CVPR 2016) on a timm ResNet-50 from ImageNet weights: the 2048-d
# image feature projected to 256, label embeddings with <bos>/<eos>, a 2-layer LSTM (hidden
# 384), tied scores, a parallel BCE head; loss 1.0 BCE + 0.5 sequence CE; teacher forcing
# 1.0 -> 0.7; labels in frequency order with 20% shuffled; 5 epochs with the CNN frozen at
# 2e-3, then CNN 1e-4 / RNN 5e-4; beam search (width 3, at most 10 labels); per-label
# thresholds of the parallel head calibrated on validation.
#
# Needs (both missing on a fresh machine, and the run stops with a message naming them):
#   data/meteo/            your charts in the data contract (see docs/research_lines/meteo.md)
#   checkpoints/resnet50/  timm ResNet-50 ImageNet weights (model.safetensors), e.g. saved on a
#                          machine with network access by
#                          timm.models.save_for_hf(timm.create_model('resnet50.a1_in1k',
#                          pretrained=True), 'checkpoints/resnet50')
#                          or set model.backbone.pretrained='hf-hub:timm/resnet50.a1_in1k'
# and `num_elements` below set to the number of elements in your labels.yaml.
#
# Options: model.head.class_weighting='inverse_frequency' (rare elements weigh more);
# model.head.bce_loss=dict(type='BCEFocalLoss', bce_weight=0.0, gamma=2.0) (focal instead of
# BCE); model.head.decode='parallel' (thresholded parallel head instead of the beam search as
# the decision); model.head.beam_width up to 5.
_base_ = [
    '../_base_/datasets/meteo_elements.py',
    '../_base_/schedules/meteo_elements_warmup.py',
    '../_base_/default_runtime.py',
]
num_elements = 9

model = dict(
    type='ImageClassifier',
    backbone=dict(type='TimmEncoder', model_name='resnet50', pretrained='checkpoints/resnet50'),
    head=dict(type='CNNRNNLabelHead', num_labels=num_elements, embed_dims=256, hidden_dims=384,
              num_layers=2, bce_weight=1.0, seq_weight=0.5, shuffle_prob=0.2, beam_width=3,
              max_length=10, decode='beam'),
)
# The checkpoint of the best validation mAP (with the per-label thresholds calibrated on that
# validation) is the one tools/train.py then tests.
default_hooks = dict(
    checkpoint=dict(save_best='parallel/mAP', rule='greater'),
    confusion_matrix=None,  # a single-label plot; elements report per-class AP
)
custom_hooks = [
    dict(type='BackboneUnfreezeHook', unfreeze_epoch=5),
    dict(type='TeacherForcingHook', start=1.0, end=0.7),
    dict(type='ThresholdCalibrationHook', metric_key='parallel/thresholds'),
]
