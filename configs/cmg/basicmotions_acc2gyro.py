# Zero-shot cross-modal transfer on BasicMotions: the head learns from ACCELEROMETER codes
# ('train' split), is selected on the accelerometer's 'val' split, and is tested once on TEST
# for both modalities: test/acc/* is same-modality, test/gyro/* the zero-shot transfer.
# Needs the checkpoint of basicmotions_pretrain.py (or --cfg-options model.pretrained=CKPT);
# model.pretrained=None gives the random-encoder baseline.
_base_ = [
    '../_base_/models/cmg_series_downstream.py',
    '../_base_/datasets/basicmotions_paired.py',
    '../_base_/schedules/cmg_downstream.py',
    '../_base_/default_runtime.py',
]

model = dict(num_classes=4, train_modality='acc',
             pretrained='work_dirs/basicmotions_pretrain/epoch_200.pth')
val_evaluator = dict(type='SingleLabelMetric')  # the training modality
test_evaluator = [
    dict(type='SingleLabelMetric', prefix='acc', label_key='pred_label_acc',
         score_key='pred_score_acc'),
    dict(type='SingleLabelMetric', prefix='gyro', label_key='pred_label_gyro',
         score_key='pred_score_gyro'),
]
default_hooks = dict(checkpoint=dict(save_best='cls/log_loss', rule='less'),
                     confusion_matrix=None)
