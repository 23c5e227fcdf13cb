"""Small building blocks for tests and examples (random-init towers, tiny sizes)."""

__all__ = ['TINY_CLIP_VISION', 'TINY_CLIP_TEXT', 'tiny_timesclip_cfg', 'tiny_timesclip_overrides']

TINY_CLIP_VISION = dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64,
                        num_hidden_layers=1, num_attention_heads=2, projection_dim=16)
TINY_CLIP_TEXT = dict(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, projection_dim=16, max_position_embeddings=77,
                      bos_token_id=0, eos_token_id=2, pad_token_id=1)


def tiny_timesclip_cfg(num_variates: int = 3, num_classes: int = 4, **overrides) -> dict:
    """A small ``TimesCLIPClassifier`` config with randomly initialised CLIP towers."""
    cfg = dict(
        type='TimesCLIPClassifier',
        num_classes=num_classes,
        embed_dims=16,
        data_preprocessor=dict(type='TimeSeriesDataPreprocessor', num_variates=num_variates),
        vision_encoder=dict(type='CLIPVisionEncoder', pretrained=None, config=TINY_CLIP_VISION),
        renderer=dict(type='TimeSeriesRenderer', image_size=32, line_width=1.0, margin=2),
        text_encoder=dict(type='CLIPTextEncoder', pretrained=None, config=TINY_CLIP_TEXT),
        patch_tokenizer=dict(type='NumericPatchTokenizer', patch_len=4, stride=2),
        variate_selection=dict(type='VariateSelection', num_heads=2),
        head=dict(type='MLPClsHead', hidden_channels=16,
                  loss=dict(type='FocalLoss', gamma=2.0, alpha='auto')),
        contrastive_loss=dict(type='InfoNCELoss', loss_weight=0.1),
    )
    cfg.update(overrides)
    return cfg


def tiny_timesclip_overrides(data_file: str, feature_cache_dir=None) -> str:
    """Config lines that shrink a TimesCLIP experiment (a config inheriting
    ``configs/timesclip/dual_12s_demo.py``) to the CSV ``data_file`` and tiny random towers,
    3 epochs; ``feature_cache_dir`` None switches the frozen-feature cache off."""
    cache = (f'feature_cache_dir={feature_cache_dir!r}' if feature_cache_dir else
             'cache_vision_features=False, feature_cache_dir=None')
    return f'''
data = dict(type='CSVTimeSeriesDataset', data_file={data_file!r}, id_column='sample_id',
            _delete_=True, num_steps=12)
train_dataloader = dict(batch_size=16, dataset=dict(data, split='train'))
val_dataloader = dict(dataset=dict(data, split='val'))
test_dataloader = dict(dataset=dict(data, split='test'))
model = dict(
    embed_dims=16,
    vision_encoder=dict(config={TINY_CLIP_VISION!r}),
    renderer=dict(image_size=32, margin=2),
    text_encoder=dict(config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1)),
    patch_tokenizer=dict(num_heads=2, num_temporal_layers=0),
    variate_selection=dict(num_heads=2),
    head=dict(hidden_channels=16),
    {cache})
train_cfg = dict(max_epochs=3)
default_hooks = dict(logger=dict(interval=2))
'''
