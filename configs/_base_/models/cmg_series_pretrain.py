# CMG pretraining for two paired SERIES modalities (e.g. accelerometer + gyroscope), each
# [B, 3, L] cut into tokens of `patch` steps: semantic encoder (Linear -> 256 + 2 transformer
# layers), specific encoder (Linear + ReLU), decoder, one shared EMA codebook of 400 codes,
# Cross-CPC (K = 5), CMCM and CLUB with 5 estimator steps per main step.
patch = 10
channels = 3


def series_modality(in_channels, patch_size):
    return dict(
        semantic=dict(type='SemanticEncoder', in_channels=in_channels, patch_size=patch_size),
        specific=dict(type='VectorSpecificEncoder', in_channels=in_channels,
                      patch_size=patch_size),
        decoder=dict(type='VectorDecoder', out_channels=in_channels, patch_size=patch_size))


model = dict(
    type='CMGPretrainer',
    modalities=dict(acc=series_modality(channels, patch), gyro=series_modality(channels, patch)),
    data_preprocessor=dict(type='MultimodalDataPreprocessor',
                           num_variates=dict(acc=channels, gyro=channels)),
    quantizer=dict(type='MultimodalEMAQuantizer', num_codes=400, commitment_cost=0.25,
                   decay=0.99, dead_code_threshold=300),
    cross_cpc=dict(type='CrossCPCLoss', num_steps=5, self_weight=0.1),
    cmcm=dict(type='CMCMLoss', loss_weight=0.5),
    club=dict(hidden_dims=128, steps=5, optimizer=dict(type='Adam', lr=1e-3), loss_weight=1.0),
)
