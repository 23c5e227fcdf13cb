# Fine-tuning with the data-aware default protocol (docs/research_lines/timemae.md, "Defaults
# that hold up"): the backbone of auto_pretrain.py + a linear head, trained end to end for
# 1000 optimizer steps on the 'train' split (validated once, at the end) or, for the final
# model, on the whole TRAIN file ('trainval', no validation). tools/benchmarks/ucr_suite.py
# derives the numbers for any dataset and chooses pretrained vs random initialisation on the
# validation split. Start from a pretraining checkpoint with
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=work_dirs/auto_pretrain/epoch_200.pth \
#       model.backbone.init_cfg.prefix=backbone.
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/datasets/uea.py',
    '../_base_/schedules/timemae_auto_1000it.py',
    '../_base_/default_runtime.py',
]

model = dict(
    num_classes=4,
    data_preprocessor=dict(num_variates=6, augment=dict(type='RandomScaleJitterShift')),
    backbone=dict(
        window_slicer=dict(_delete_=True, type='ConvWindowSlicer', embed_dims=64, window=3),
        encoder=dict(num_layers=2, dropout=0.1)),
)
train_dataloader = dict(batch_size=8, dataset=dict(name='BasicMotions', split='train'))
val_dataloader = dict(dataset=dict(name='BasicMotions'))
test_dataloader = dict(dataset=dict(name='BasicMotions'))

# 4 steps per epoch on 32 training series with batch 8: 250 epochs = 1000 steps
train_cfg = dict(by_epoch=True, max_epochs=250, val_interval=250)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(interval=250, save_last=True), logger=dict(interval=50))
