# TimeMAE pretraining with the official hyper-parameters: the backbone of timemae_backbone.py,
# 4 cross-attention layers (dropout 0.1), 60% masking (floor), codebook of 192 words, EMA decay
# 0.99 (momentum=0.01 in mmengine's convention: the weight of the new value),
# loss = 1.0 * MCC + 5.0 * MRR, the official initialisation (the pretrainer's default).
_base_ = ['./timemae_backbone.py']

model = dict(
    type='TimeMAEPretrainer',
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
