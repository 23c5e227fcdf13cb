# Zero-shot transfer on UCI HAPT (6 activities, subject split): the head learns from
# accelerometer codes of the 'train' subjects, is selected on the accelerometer of the 'val'
# subjects, and is tested once on the test subjects for both modalities (test/gyro/* is the
# zero-shot transfer). Needs hapt_pretrain.py's checkpoint (model.pretrained).
_base_ = [
    '../_base_/models/cmg_series_downstream.py',
    '../_base_/datasets/hapt_paired.py',
    '../_base_/schedules/cmg_downstream.py',
    '../_base_/default_runtime.py',
]

patch = 16
model = dict(num_classes=6, train_modality='acc',
             pretrained='work_dirs/hapt_pretrain/epoch_8.pth',
             modalities=dict(acc=dict(semantic=dict(patch_size=patch)),
                             gyro=dict(semantic=dict(patch_size=patch))))
train_cfg = dict(max_epochs=20)
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = [
    dict(type='SingleLabelMetric', prefix='acc', label_key='pred_label_acc',
         score_key='pred_score_acc'),
    dict(type='SingleLabelMetric', prefix='gyro', label_key='pred_label_gyro',
         score_key='pred_score_gyro'),
]
default_hooks = dict(checkpoint=dict(save_best='cls/log_loss', rule='less'),
                     confusion_matrix=None)
