# CMG pretraining on UCI HAPT's paired accelerometer / gyroscope windows (real data): 128 steps
# -> 8 tokens of 16 steps per modality. Train + val subjects, labels unused; test subjects are
# never seen.  python tools/benchmarks/cmg_basicmotions.py --dataset hapt  runs the protocol.
_base_ = [
    '../_base_/models/cmg_series_pretrain.py',
    '../_base_/datasets/hapt_paired.py',
    '../_base_/schedules/cmg_pretrain.py',
    '../_base_/default_runtime.py',
]

patch = 16
model = dict(modalities=dict(
    acc=dict(semantic=dict(patch_size=patch), specific=dict(patch_size=patch),
             decoder=dict(patch_size=patch)),
    gyro=dict(semantic=dict(patch_size=patch), specific=dict(patch_size=patch),
              decoder=dict(patch_size=patch))))
train_dataloader = dict(dataset=dict(split='trainval'))
train_cfg = dict(max_epochs=8)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=1, save_last=True),
                     confusion_matrix=None)
