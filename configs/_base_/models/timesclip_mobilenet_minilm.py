# TimesCLIPClassifier with REAL pretrained towers that ship offline (installed by
# tools/setup_env.sh): torchvision's ImageNet MobileNetV2 on the rendered plots (vision branch)
# and all-MiniLM-L6-v2 on the numeric patches (language branch), both frozen. The stand-ins for
# CLIP ViT-B/16 and CLIP text, which are not available offline.
model = dict(
    type='TimesCLIPClassifier',
    num_classes=24,
    embed_dims=256,
    data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=1),
    # Images are rendered at 128 px and fed at that size (MobileNetV2 is fully convolutional):
    # about 4x cheaper than 224 px on a CPU.
    vision_encoder=dict(type='MobileNetV2Encoder', pretrained='imagenet', frozen=True,
                        image_size=None),
    renderer=dict(type='TimeSeriesRenderer', image_size=128, line_width=2.0,
                  scales=(1.0, 0.5)),
    text_encoder=dict(type='HFTextEncoder', pretrained='minilm', frozen=True, pooling='mean'),
    patch_tokenizer=dict(type='NumericPatchTokenizer', patch_len=4, stride=2,
                         num_temporal_layers=1, num_heads=8, dropout=0.1),
    variate_selection=dict(type='VariateSelection', num_heads=8, dropout=0.1),
    head=dict(type='MLPClsHead', hidden_channels=256, dropout=0.1,
              loss=dict(type='FocalLoss', gamma=2.0, alpha='auto')),
    contrastive_loss=dict(type='InfoNCELoss', temperature=0.07, mode='per_variate',
                          loss_weight=0.1),
    # frozen vision features cached in memory and on disk (see timesclip_dual.py)
    cache_vision_features=True,
    feature_cache_dir='work_dirs/.feature_cache',
    vision_batch_size=256,
)
