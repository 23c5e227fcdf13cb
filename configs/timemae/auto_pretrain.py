# TimeMAE pretraining with the data-aware default protocol (docs/research_lines/timemae.md,
# "Defaults that hold up"). The numbers below are the recipe for BasicMotions (40 series of 100
# steps); tools/benchmarks/ucr_suite.py derives them for any dataset with
# vtt.apis.derive_timemae_recipe (vtt.apis.recipe_cfg_options gives them as --cfg-options)
# and saves each stage's full config in its work dir.
# Uses the TRAIN file (train + val splits, labels unused); TEST is never seen.
_base_ = [
    '../_base_/models/timemae_pretrain.py',
    '../_base_/datasets/uea.py',
    '../_base_/schedules/timemae_auto_1000it.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # label-preserving scale / noise / shift in training (small training sets only)
    data_preprocessor=dict(num_variates=6, augment=dict(type='RandomScaleJitterShift')),
    backbone=dict(
        # convolutional stem pooled into windows of ~T/32 steps (not the paper's linear window
        # embedding, which loses 10-30 points on small UCR sets; see the docs)
        window_slicer=dict(_delete_=True, type='ConvWindowSlicer', embed_dims=64, window=3),
        encoder=dict(num_layers=2, dropout=0.1)),
)
train_dataloader = dict(batch_size=8, dataset=dict(name='BasicMotions', split='trainval'))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None

train_cfg = dict(by_epoch=True, max_epochs=200)
default_hooks = dict(checkpoint=dict(interval=200, save_last=True), logger=dict(interval=50),
                     confusion_matrix=None)
