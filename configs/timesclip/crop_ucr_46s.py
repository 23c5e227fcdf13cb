# TimesCLIP on the UCR satellite Crop set (real data) with real pretrained towers
# (ImageNet MobileNetV2 + MiniLM), all 46 steps. Selection on validation macro-F1, one test.
# `python tools/benchmarks/baselines.py Crop --fractions 0.25 0.5 1` runs it early and in full,
# next to MiniRocket and TimeMAE on the same splits.
_base_ = [
    '../_base_/models/timesclip_mobilenet_minilm.py',
    '../_base_/datasets/ucr_crop.py',
    '../_base_/schedules/adamw_plateau_100e.py',
    '../_base_/default_runtime.py',
]

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=20)
default_hooks = dict(
    checkpoint=dict(save_best='cls/macro_f1', rule='greater'),
    early_stopping=dict(type='ResumableEarlyStoppingHook', monitor='cls/macro_f1',
                        rule='greater', patience=5),
)
