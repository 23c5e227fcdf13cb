# Classifier on a TimeMAE backbone: the same backbone config as pretraining + a linear head
# (cross-entropy) on the mean-pooled windows. Pretrained weights come through the backbone's
# init_cfg: dict(type='Pretrained', checkpoint=CKPT, prefix='backbone.') (None = scratch).
# model.freeze_backbone = True for the linear probe.
model = dict(
    type='TimeMAEClassifier',
    num_classes=4,
    freeze_backbone=False,
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=6),
    backbone=dict(
        type='WindowEncoder',
        window_slicer=dict(type='WindowSlicer', embed_dims=64, window=8),
        encoder=dict(type='TransformerEncoder', num_layers=8, num_heads=4, ffn_ratio=4,
                     dropout=0.2)),
    head=dict(type='LinearClsHead', dropout=0.0,
              loss=dict(type='CrossEntropyLoss', label_smoothing=0.0)),
)
