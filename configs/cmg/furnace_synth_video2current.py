# The furnace group's question on SYNTHETIC data: a classifier trained on VIDEO codes (video
# has labels), selected on the video's validation runs, used zero-shot on the CURRENT
# (test/current/*; test/video/* is same-modality). Needs furnace_synth_pretrain.py's
# checkpoint (or --cfg-options model.pretrained=CKPT; None = random-encoder baseline).
_base_ = [
    '../_base_/models/cmg_furnace_pretrain.py',
    '../_base_/datasets/furnace_synth.py',
    '../_base_/schedules/cmg_downstream.py',
    '../_base_/default_runtime.py',
]

model = dict(
    _delete_=True,
    type='CMGCrossModalClassifier',
    num_classes=2,
    train_modality='video',
    modalities={{_base_.model.modalities}},
    quantizer={{_base_.model.quantizer}},
    data_preprocessor={{_base_.model.data_preprocessor}},
    head=dict(type='TemporalMaxClsHead', hidden_channels=256),
    pretrained='work_dirs/furnace_synth_pretrain/epoch_10.pth',
)
train_cfg = dict(max_epochs=15)
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = [
    dict(type='SingleLabelMetric', prefix='video', label_key='pred_label_video',
         score_key='pred_score_video'),
    dict(type='SingleLabelMetric', prefix='current', label_key='pred_label_current',
         score_key='pred_score_current'),
]
default_hooks = dict(checkpoint=dict(save_best='cls/log_loss', rule='less'),
                     confusion_matrix=None)
