# The AVE-shaped audio-video CMG model of the official code (builds without data; used by
# tools/benchmarks/cmg_step.py): 10 one-second steps, audio = a 128-d VGGish feature per step,
# video = a 7 x 7 x 512 VGG19 feature map per step. Semantic encoders (video: SE channel +
# spatial attention) -> 256, specific encoders (audio Linear -> 256; video conv stack ->
# 3 x 3 x 2048), decoders back to the inputs, one codebook of 400 codes, Cross-CPC with the
# official K = 1, CMCM, CLUB. Batch 80 as the official training.
# Train on your own features: a paired dataset whose items are
# inputs = dict(audio=float32 [128, 10], video=float32 [10, 512, 7, 7]).
_base_ = ['../_base_/schedules/cmg_pretrain.py', '../_base_/default_runtime.py']

model = dict(
    type='CMGPretrainer',
    modalities=dict(
        audio=dict(
            semantic=dict(type='SemanticEncoder', in_channels=128),
            specific=dict(type='VectorSpecificEncoder', in_channels=128, out_dims=256),
            decoder=dict(type='VectorDecoder', out_channels=128, specific_dims=256)),
        video=dict(
            semantic=dict(type='VideoSemanticEncoder', in_channels=512),
            specific=dict(type='MapSpecificEncoder', in_channels=512,
                          hidden_channels=(1024, 2048)),
            decoder=dict(type='MapDecoder', out_channels=512, specific_channels=2048,
                         hidden_channels=1024))),
    # audio features are used as they come; video maps are not normalised
    data_preprocessor=dict(type='MultimodalDataPreprocessor',
                           num_variates=dict(audio=None, video=None)),
    quantizer=dict(type='MultimodalEMAQuantizer', num_codes=400),
    cross_cpc=dict(type='CrossCPCLoss', num_steps=1, self_weight=0.1),
    cmcm=dict(type='CMCMLoss', loss_weight=0.5),
    club=dict(hidden_dims=128, steps=5, optimizer=dict(type='Adam', lr=1e-3), loss_weight=1.0),
)
# no data ships: add train_dataloader = dict(batch_size=80, dataset=..., ...) for your features
train_cfg = dict(max_epochs=6)
