# TimeMAE pretraining with the official hyper-parameters: window 8, d_model 64, 8 visible
# transformer layers (4 heads, ffn 4d, dropout 0.2), 4 cross-attention layers (dropout 0.1),
# 60% masking (floor), codebook of 192 words, EMA decay 0.99 (momentum=0.01 in mmengine's
# convention: the weight of the new value), loss = 1.0 * MCC + 5.0 * MRR, the official init.
# The number of variates is written once, in data_preprocessor (the backbone takes it there).
model = dict(
    type='TimeMAEPretrainer',
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=6),
    backbone=dict(
        type='WindowEncoder',
        window_slicer=dict(type='WindowSlicer', embed_dims=64, window=8),
        encoder=dict(type='TransformerEncoder', num_layers=8, num_heads=4, ffn_ratio=4,
                     dropout=0.2)),
    decoder=dict(type='CrossAttentionDecoder', num_layers=4, num_heads=4, ffn_ratio=4,
                 dropout=0.1),
    # The paper's Gumbel-softmax codebook with a straight-through estimator; the official
    # code's variant is dict(type='LinearCenterTokenizer', vocab_size=192).
    codebook=dict(type='GumbelCodebook', vocab_size=192),
    mcc_loss=dict(type='MCCLoss', label_smoothing=0.2, loss_weight=1.0),
    mrr_loss=dict(type='MRRLoss', loss_weight=5.0),
    mask_ratio=0.6,
    batch_shared_mask=False,
    momentum=0.01,
)
