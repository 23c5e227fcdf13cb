# TimesCLIP early classification on 2018four: first 12 of 37 steps, 14 variates, 4 classes,
# selection on validation macro-F1. Needs data/2018four.csv and the CLIP weights
# `openai/clip-vit-base-patch16` (hub id or a local directory); see README.
_base_ = [
    '../_base_/models/timesclip_dual.py',
    '../_base_/datasets/crop_2018four.py',
    '../_base_/schedules/adamw_plateau_100e.py',
    '../_base_/default_runtime.py',
]

# Keep the best checkpoint by validation macro-F1 (and the latest, for --resume); stop after 15
# epochs without improvement.
default_hooks = dict(
    checkpoint=dict(save_best='cls/macro_f1', rule='greater'),
    early_stopping=dict(type='ResumableEarlyStoppingHook', monitor='cls/macro_f1',
                        rule='greater', patience=15),
)
