# CMG pretraining for furnace current (3 phases, 8 samples per video step -> one token per
# step) + video features (16 per step), 8 tokens per window, one shared codebook of 400 codes.
# The asymmetric teacher of the furnace notes is one dict: video barely learns from current,
# current learns from video.
samples_per_step = 8
video_dims = 16

model = dict(
    type='CMGPretrainer',
    modalities=dict(
        current=dict(
            semantic=dict(type='SemanticEncoder', in_channels=3, patch_size=samples_per_step),
            specific=dict(type='VectorSpecificEncoder', in_channels=3,
                          patch_size=samples_per_step),
            decoder=dict(type='VectorDecoder', out_channels=3, patch_size=samples_per_step)),
        video=dict(
            semantic=dict(type='SemanticEncoder', in_channels=video_dims),
            specific=dict(type='VectorSpecificEncoder', in_channels=video_dims),
            decoder=dict(type='VectorDecoder', out_channels=video_dims))),
    data_preprocessor=dict(type='MultimodalDataPreprocessor',
                           num_variates=dict(current=3, video=video_dims)),
    quantizer=dict(type='MultimodalEMAQuantizer', num_codes=400,
                   mix=dict(video=dict(video=0.9, current=0.1),
                            current=dict(current=0.5, video=0.5))),
    cross_cpc=dict(type='CrossCPCLoss', num_steps=5, self_weight=0.1, min_start=1),
    cmcm=dict(type='CMCMLoss', loss_weight=0.5),
    club=dict(hidden_dims=128, steps=5, optimizer=dict(type='Adam', lr=1e-3), loss_weight=1.0),
)
