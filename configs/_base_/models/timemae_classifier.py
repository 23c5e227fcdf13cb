# Classifier on a TimeMAE encoder: the same slicer/encoder configs as pretraining + linear head.
# model.pretrained = the pretraining checkpoint (None = random initialisation);
# model.freeze_encoder = True for the linear probe.
num_variates = 6
num_classes = 4
embed_dims = 64

model = dict(
    type='TimeMAEClassifier',
    num_classes=num_classes,
    pretrained=None,
    freeze_encoder=False,
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=num_variates),
    window_slicer=dict(type='WindowSlicer', in_channels=num_variates, embed_dims=embed_dims,
                       window=8),
    encoder=dict(type='TransformerEncoder', embed_dims=embed_dims, num_layers=8, num_heads=4,
                 ffn_ratio=4, dropout=0.2),
)
