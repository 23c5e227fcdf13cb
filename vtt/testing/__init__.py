"""Small building blocks for tests and examples (random-init towers, tiny sizes)."""

__all__ = ['TINY_CLIP_VISION', 'TINY_CLIP_TEXT', 'tiny_timesclip_cfg']

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
