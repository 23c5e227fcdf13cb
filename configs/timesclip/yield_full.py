# TimesCLIP yield regression, ablation E1 (the full model): vision + CLIP-text branches,
# hybrid contrastive loss (lambda 0.1), variate selection; first 12 steps; selection on
# validation RMSE. Needs data/yield.csv (14 variates, a `yield` column) and the CLIP weights
# `openai/clip-vit-base-patch16` (hub id or a local directory).
# The grid: yield_full (E1), yield_no_contrastive (E2), yield_no_variate_selection (E3),
# yield_clip_text_only (E4), yield_scratch_transformer (E5); yield_demo runs E1 offline.
_base_ = [
    '../_base_/models/timesclip_yield.py',
    '../_base_/datasets/crop_yield.py',
    '../_base_/schedules/adamw_plateau_rmse_100e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(
    checkpoint=dict(save_best='regression/rmse', rule='less'),
    early_stopping=dict(type='ResumableEarlyStoppingHook', monitor='regression/rmse',
                        rule='less', patience=15),
    confusion_matrix=None,  # classification only
)
