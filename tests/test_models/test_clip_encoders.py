import pytest
import torch

from vtt.registry import MODELS
from vtt.utils.errors import PretrainedWeightsNotFoundError


def test_vision_from_pretrained_local_dir(tiny_clip_dir):
    from transformers import CLIPModel
    reference = CLIPModel.from_pretrained(tiny_clip_dir)
    encoder = MODELS.build(dict(type='CLIPVisionEncoder', pretrained=tiny_clip_dir))
    torch.testing.assert_close(
        encoder.backbone.vision_model.embeddings.patch_embedding.weight,
        reference.vision_model.embeddings.patch_embedding.weight)
    torch.testing.assert_close(encoder.backbone.visual_projection.weight,
                               reference.visual_projection.weight)
    images = torch.rand(2, 3, 32, 32)
    pixels = (images - encoder.image_mean) / encoder.image_std
    with torch.no_grad():
        expected = reference.get_image_features(pixel_values=pixels)
        if not torch.is_tensor(expected):  # transformers 5 returns a model output
            expected = expected.pooler_output
        torch.testing.assert_close(encoder(images), expected)
    assert encoder.output_dim == 16


def test_text_from_pretrained_local_dir(tiny_clip_dir):
    from transformers import CLIPModel
    reference = CLIPModel.from_pretrained(tiny_clip_dir)
    encoder = MODELS.build(dict(type='CLIPTextEncoder', pretrained=tiny_clip_dir))
    torch.testing.assert_close(encoder.backbone.text_projection.weight,
                               reference.text_projection.weight)
    # the summary token starts as CLIP's end-of-text embedding: the last vocabulary id (49407
    # in real CLIP), not the legacy eos_token_id 2 the config declares
    assert reference.config.text_config.eos_token_id == 2
    eot = reference.config.text_config.vocab_size - 1
    torch.testing.assert_close(encoder.summary_token.view(-1),
                               reference.text_model.embeddings.token_embedding.weight[eot])
    assert encoder(torch.randn(3, 5, encoder.hidden_size)).shape == (3, 16)


@pytest.mark.parametrize('declared, expected', [(2, 49407), (None, 49407), (49407, 49407),
                                                (7, 7), (60000, 49407)])
def test_end_of_text_id(declared, expected):
    from transformers import CLIPTextConfig

    from vtt.models.encoders import clip_end_of_text_id
    assert clip_end_of_text_id(CLIPTextConfig(eos_token_id=declared)) == expected


def test_text_encoder_is_causal():
    encoder = MODELS.build(dict(type='CLIPTextEncoder', config=dict(
        vocab_size=10, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, projection_dim=8, eos_token_id=2)))
    text = encoder.backbone.text_model
    tokens = torch.randn(1, 4, 16)
    hidden = text.embeddings(inputs_embeds=tokens)
    mask = torch.full((4, 4), float('-inf')).triu(1).view(1, 1, 4, 4)
    out = text.encoder(inputs_embeds=hidden, attention_mask=mask).last_hidden_state
    changed = tokens.clone()
    changed[0, 3] += 5.0
    out2 = text.encoder(inputs_embeds=text.embeddings(inputs_embeds=changed),
                        attention_mask=mask).last_hidden_state
    torch.testing.assert_close(out[0, :3], out2[0, :3])  # earlier positions do not see later
    assert not torch.allclose(out[0, 3], out2[0, 3])


def test_frozen_tower_stays_in_eval_mode():
    encoder = MODELS.build(dict(type='CLIPVisionEncoder', config=dict(
        image_size=32, patch_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, projection_dim=8)))
    encoder.train()
    assert not encoder.backbone.training
    assert not any(p.requires_grad for p in encoder.backbone.parameters())


def test_missing_weights_error_says_what_and_how(tmp_path):
    with pytest.raises(PretrainedWeightsNotFoundError) as info:
        MODELS.build(dict(type='CLIPVisionEncoder', pretrained='no-such-org/no-such-clip',
                          local_files_only=True))
    message = str(info.value)
    assert 'no-such-org/no-such-clip' in message
    assert 'model.vision_encoder.pretrained' in message and '--cfg-options' in message
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(PretrainedWeightsNotFoundError, match='does not hold a loadable model'):
        MODELS.build(dict(type='CLIPTextEncoder', pretrained=str(empty)))
