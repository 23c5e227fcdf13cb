# CMG pretraining on the SYNTHETIC furnace data (current + video, lead 4 steps), pairing each
# video window with the current window 4 steps earlier (the lead tools/cmg/lead_sweep.py
# finds). Train + val runs, labels unused; test runs never seen.
#   python tools/train.py configs/cmg/furnace_synth_pretrain.py
_base_ = [
    '../_base_/models/cmg_furnace_pretrain.py',
    '../_base_/datasets/furnace_synth.py',
    '../_base_/schedules/cmg_pretrain.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(dataset=dict(split='trainval'))
train_cfg = dict(max_epochs=10)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True),
                     confusion_matrix=None)
