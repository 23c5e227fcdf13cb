# The TimeMAE backbone, shared by pretraining and the downstream classifier (which must use the
# same one to load its weights): window 8, d_model 64, 8 post-norm transformer layers (4 heads,
# ffn 4d, dropout 0.2) with the official residual scales. The number of variates is written
# once, in data_preprocessor (the backbone takes it from there).
model = dict(
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=6),
    backbone=dict(
        type='WindowEncoder',
        window_slicer=dict(type='WindowSlicer', embed_dims=64, window=8),
        encoder=dict(type='TransformerEncoder', num_layers=8, num_heads=4, ffn_ratio=4,
                     dropout=0.2)),
)
