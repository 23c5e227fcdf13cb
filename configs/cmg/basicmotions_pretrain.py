# CMG pretraining on BasicMotions' paired accelerometer / gyroscope series (real data, UEA via
# aeon): 100 steps per series -> 10 tokens of 10 steps per modality. Pretrains on the whole
# TRAIN file ('trainval'; labels unused); TEST is never seen.
#   python tools/train.py configs/cmg/basicmotions_pretrain.py
# then basicmotions_acc2gyro.py / basicmotions_gyro2acc.py (or, for everything at once over
# seeds, tools/benchmarks/cmg_basicmotions.py).
_base_ = [
    '../_base_/models/cmg_series_pretrain.py',
    '../_base_/datasets/basicmotions_paired.py',
    '../_base_/schedules/cmg_pretrain.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=20, dataset=dict(split='trainval'))
train_cfg = dict(max_epochs=200)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=1, save_last=True),
                     confusion_matrix=None, logger=dict(interval=2))
