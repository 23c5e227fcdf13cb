# TimeMAE pretraining with the official hyper-parameters: window 8, d_model 64, 8 visible
# transformer layers (4 heads, ffn 4d, dropout 0.2), 4 cross-attention layers, 60% masking,
# codebook of 192 words, EMA momentum 0.99, loss = 1.0 * MCC + 5.0 * MRR.
# `num_variates` must match the data (set in the experiment config).
num_variates = 6
embed_dims = 64

model = dict(
    type='TimeMAEPretrainer',
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=num_variates),
    window_slicer=dict(type='WindowSlicer', in_channels=num_variates, embed_dims=embed_dims,
                       window=8),
    encoder=dict(type='TransformerEncoder', embed_dims=embed_dims, num_layers=8, num_heads=4,
                 ffn_ratio=4, dropout=0.2),
    decoder=dict(type='CrossAttentionDecoder', embed_dims=embed_dims, num_layers=4,
                 num_heads=4, ffn_ratio=4, dropout=0.2),
    # The paper's Gumbel-softmax codebook with a straight-through estimator; the official
    # code's variant is dict(type='LinearCenterTokenizer', embed_dims=64, vocab_size=192).
    codebook=dict(type='GumbelCodebook', embed_dims=embed_dims, vocab_size=192),
    mcc_loss=dict(type='MCCLoss', label_smoothing=0.2, loss_weight=1.0),
    mrr_loss=dict(type='MRRLoss', loss_weight=5.0),
    mask_ratio=0.6,
    batch_shared_mask=False,
    momentum=0.99,
)
