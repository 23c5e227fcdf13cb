# TimesCLIPRegressor (the yield seed): the dual-modal model of timesclip_dual.py with a
# regression head (MLP -> 1, MSE on the target z-scored with TRAIN statistics) and the seed's
# recommended hybrid contrastive loss, lambda 0.1 (0.5 per-variate + 0.5 global InfoNCE).
clip_name = 'openai/clip-vit-base-patch16'

model = dict(
    type='TimesCLIPRegressor',
    embed_dims=512,
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=14),
    vision_encoder=dict(type='CLIPVisionEncoder', pretrained=clip_name, frozen=True),
    renderer=dict(type='TimeSeriesRenderer', image_size=224, line_width=2.0,
                  scales=(1.0, 0.5, 0.25)),
    text_encoder=dict(type='CLIPTextEncoder', pretrained=clip_name, frozen=True),
    patch_tokenizer=dict(type='NumericPatchTokenizer', patch_len=4, stride=2,
                         num_temporal_layers=1, num_heads=8, dropout=0.1),
    variate_selection=dict(type='VariateSelection', num_heads=8, dropout=0.1),
    head=dict(type='RegressionHead', hidden_channels=512, dropout=0.1,
              loss=dict(type='MSELoss')),
    # mode: 'per_variate', 'global' or 'hybrid' (alpha * per_variate + (1 - alpha) * global)
    contrastive_loss=dict(type='InfoNCELoss', temperature=0.07, mode='hybrid', alpha=0.5,
                          loss_weight=0.1),
    # The frozen ViT's features are cached per series, in memory and on disk, reused by every
    # later epoch, run and process of the same data, renderer and weights (keyed by all of
    # them: never stale). `tools/train.py --no-feature-cache` switches it off.
    cache_vision_features=True,
    feature_cache_dir='work_dirs/.feature_cache',
    vision_batch_size=128,
)
