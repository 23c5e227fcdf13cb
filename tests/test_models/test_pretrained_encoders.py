"""Real pretrained towers that ship offline: ImageNet MobileNetV2 and MiniLM."""
import pytest
import torch

from vtt.registry import MODELS
from vtt.utils.errors import PretrainedWeightsMismatchError, PretrainedWeightsNotFoundError


@pytest.fixture(scope='module')
def mobilenet():
    return MODELS.build(dict(type='MobileNetV2Encoder'))


def test_mobilenet_v2_loads_the_imagenet_weights_exactly(mobilenet):
    from torchvision.models import mobilenet_v2

    from vtt.utils.assets import mobilenet_v2_imagenet_path
    from vtt.utils.compat import safe_torch_load
    reference = mobilenet_v2()
    reference.load_state_dict(safe_torch_load(str(mobilenet_v2_imagenet_path())))
    reference.eval()
    images = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        pooled = mobilenet(images)
        logits = reference(images)
        expected = reference.features((images - mobilenet.image_mean) / mobilenet.image_std)
    assert pooled.shape == (2, 1280) and mobilenet.output_dim == 1280
    torch.testing.assert_close(pooled, expected.mean((2, 3)))
    # trained weights, not a fresh init: BatchNorm statistics were accumulated on ImageNet
    bn = mobilenet.backbone[1].conv[0][1]
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))
    assert logits.shape == (2, 1000)


def test_mobilenet_v2_frozen_in_train_mode_and_feature_map(mobilenet):
    mobilenet.train()
    assert not mobilenet.backbone.training
    assert not any(p.requires_grad for p in mobilenet.parameters())
    fmap = MODELS.build(dict(type='MobileNetV2Encoder', pretrained=None, frozen=False,
                             out_type='feature_map', image_size=None))
    assert fmap(torch.rand(1, 3, 64, 96)).shape == (1, 1280, 2, 3)
    assert all(p.requires_grad for p in fmap.parameters())


def test_mobilenet_v2_bad_weights(tmp_path):
    with pytest.raises(PretrainedWeightsNotFoundError, match="pretrained='imagenet'"):
        MODELS.build(dict(type='MobileNetV2Encoder', pretrained=str(tmp_path / 'none.pth')))
    path = tmp_path / 'other.pth'
    torch.save({'features.0.0.weight': torch.zeros(1)}, path)
    with pytest.raises(PretrainedWeightsMismatchError, match='size mismatch'):
        MODELS.build(dict(type='MobileNetV2Encoder', pretrained=str(path)))
    torch.save({'features.99.weight': torch.zeros(1)}, path)
    with pytest.raises(PretrainedWeightsMismatchError, match='missing keys'):
        MODELS.build(dict(type='MobileNetV2Encoder', pretrained=str(path)))


def test_mobilenet_checkpoint_records_the_frozen_weights(mobilenet):
    state = mobilenet.state_dict()
    assert not any(k.startswith('backbone.') for k in state)  # recorded by source + hash
    MODELS.build(dict(type='MobileNetV2Encoder')).load_state_dict(state)


@pytest.fixture(scope='module')
def minilm():
    return MODELS.build(dict(type='HFTextEncoder', pretrained='minilm'))


def test_minilm_text_tower_uses_the_real_model(minilm):
    from transformers import AutoModel, AutoTokenizer

    from vtt.utils.assets import minilm_dir
    assert minilm.hidden_size == minilm.output_dim == 384
    # [CLS]/[SEP] start from the real word embeddings of ids 101/102
    words = minilm.backbone.get_input_embeddings().weight
    torch.testing.assert_close(minilm.cls_token.view(-1), words[101])
    torch.testing.assert_close(minilm.sep_token.view(-1), words[102])
    # feeding the real word embeddings of a sentence reproduces the model's own output
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir()))
    ids = tokenizer('crop growth over the season', return_tensors='pt')['input_ids']
    reference = AutoModel.from_pretrained(str(minilm_dir())).eval()
    with torch.no_grad():
        expected = reference(input_ids=ids).last_hidden_state.mean(1)
        got = minilm.eval()(words[ids[:, 1:-1]])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_minilm_frozen_special_tokens_train(minilm):
    trainable = {n for n, p in minilm.named_parameters() if p.requires_grad}
    assert trainable == {'cls_token', 'sep_token'}
    x = torch.randn(2, 5, 384, requires_grad=True)
    minilm.train()(x).sum().backward()
    assert x.grad is not None and minilm.cls_token.grad is not None
    with pytest.raises(ValueError, match='exceed'):
        minilm(torch.randn(1, 511, 384))


def test_timesclip_with_real_towers_builds_and_trains_one_step():
    from mmengine.config import Config

    from vtt.utils.cli import drop_disabled_hooks
    cfg = Config.fromfile('configs/timesclip/crop_ucr_12s.py')
    drop_disabled_hooks(cfg)
    model = MODELS.build(cfg.model)
    series = torch.randn(4, 1, 12)
    stats = dict(mean=torch.zeros(1), std=torch.ones(1),
                 class_counts=torch.full((24, ), 10, dtype=torch.long))
    model.set_train_statistics({k: v.numpy() for k, v in stats.items()})
    data = dict(inputs=series, data_samples=dict(label=torch.tensor([0, 1, 2, 3])))
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert torch.isfinite(total)
    assert model.vision_encoder.backbone[0][0].weight.grad is None  # frozen towers
    assert model.text_proj.weight.grad is not None
