import pytest
import torch

from vtt.registry import MODELS
from vtt.testing import tiny_timesclip_cfg


def _batch(b=6, v=3, t=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randn(b, v, t, generator=g),
                data_samples=dict(label=torch.arange(b) % 4, index=torch.arange(b)))


def _model(**overrides):
    model = MODELS.build(tiny_timesclip_cfg(**overrides))
    model.set_train_statistics(dict(mean=[0.0] * 3, std=[1.0] * 3, class_counts=[5, 5, 5, 5]))
    return model


def test_loss_and_predict():
    model = _model()
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_contrastive'}
    preds = model(**data, mode='predict')
    assert len(preds) == 6 and preds[0]['pred_score'].shape == (4, )
    assert preds[2]['gt_label'] == 2 and 0 <= preds[2]['pred_label'] < 4
    assert model(**data, mode='tensor').shape == (6, 4)


def test_gradients_only_reach_trainable_parts():
    model = _model(cache_vision_features=False)
    model.train()
    data = model.data_preprocessor(_batch(), True)
    sum(model(**data, mode='loss').values()).backward()
    frozen = list(model.vision_encoder.backbone.parameters()) + \
        list(model.text_encoder.backbone.parameters())
    assert frozen and all(p.grad is None and not p.requires_grad for p in frozen)
    for module in (model.patch_tokenizer, model.vision_proj, model.text_proj,
                   model.variate_selection, model.head):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads), type(module).__name__
        assert any(g.abs().sum() > 0 for g in grads), type(module).__name__
    # the trainable summary token sits in front of the frozen text transformer
    assert model.text_encoder.summary_token.grad is not None


def test_vision_feature_cache_hits_and_matches():
    model = _model()
    model.eval()
    inputs = _batch()['inputs']
    first = model.vision_features(inputs)
    misses = model.vision_cache.misses
    assert misses == 18 and len(model.vision_cache) == 18
    again = model.vision_features(inputs[[3, 1]])  # other batch composition: all hits
    assert model.vision_cache.misses == misses and model.vision_cache.hits == 6
    torch.testing.assert_close(again, first[[3, 1]], atol=1e-5, rtol=1e-5)
    uncached = _model(cache_vision_features=False)
    uncached.load_state_dict(model.state_dict())
    torch.testing.assert_close(uncached.vision_features(inputs), first, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('overrides,parts', [
    (dict(vision_encoder=None, renderer=None), 2),
    (dict(text_encoder=None, patch_tokenizer=None), 2),
    (dict(variate_selection=None), 2),
    (dict(contrastive_loss=None), 3),
])
def test_ablations(overrides, parts):
    model = _model(**overrides)
    assert model.head.in_channels == parts * 16
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    has_contrastive = model.vision_encoder is not None and model.text_encoder is not None \
        and 'contrastive_loss' not in overrides
    assert ('loss_contrastive' in losses) == has_contrastive


def test_variate_selection_attention_rows_sum_to_one():
    model = _model()
    model.eval()  # attention dropout off
    out = model.extract_feat(model.data_preprocessor(_batch(), False)['inputs'])
    assert out['attention'].shape == (6, 3, 3)
    torch.testing.assert_close(out['attention'].sum(-1), torch.ones(6, 3))


def test_statistics_are_buffers_and_required():
    model = MODELS.build(tiny_timesclip_cfg())
    with pytest.raises(RuntimeError, match='normalisation statistics are not set'):
        model.data_preprocessor(_batch(), False)
    model.set_train_statistics(dict(mean=[1.0, 2.0, 3.0], std=[2.0, 2.0, 2.0],
                                    class_counts=[1, 1, 1, 5]))
    state = model.state_dict()
    assert state['data_preprocessor.mean'].tolist() == [1.0, 2.0, 3.0]
    assert state['head.loss_module.alpha'].tolist() == pytest.approx([2.0, 2.0, 2.0, 0.4])
    out = model.data_preprocessor(dict(inputs=torch.full((1, 3, 4), 3.0)), False)['inputs']
    assert out[0, :, 0].tolist() == [1.0, 0.5, 0.0]


def test_config_errors():
    with pytest.raises(ValueError, match='at least one of'):
        MODELS.build(tiny_timesclip_cfg(vision_encoder=None, renderer=None, text_encoder=None,
                                        patch_tokenizer=None))
    with pytest.raises(ValueError, match='go together'):
        MODELS.build(tiny_timesclip_cfg(renderer=None))


def test_vision_cache_is_never_stale():
    """Loading other weights, or changing a renderer setting, recomputes the features."""
    model = _model().eval()
    series = model.data_preprocessor(_batch(), False)['inputs']
    with torch.no_grad():
        before = model.vision_features(series).clone()
        other = _model()
        torch.manual_seed(1)
        for p in other.vision_encoder.backbone.parameters():
            p.data.normal_()
        model.load_state_dict(other.state_dict())
        after = model.vision_features(series)
        uncached = model._encode_images(series.reshape(-1, series.shape[-1]),
                                        torch.arange(3).repeat(6)).view(6, 3, -1)
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, uncached)
    with torch.no_grad():
        model.renderer.line_width = 3.0
        thicker = model.vision_features(series)
        expected = model._encode_images(series.reshape(-1, series.shape[-1]),
                                        torch.arange(3).repeat(6)).view(6, 3, -1)
    torch.testing.assert_close(thicker, expected)
    assert not torch.allclose(thicker, after)


def test_frozen_pretrained_towers_stay_out_of_checkpoints(tiny_clip_dir, tmp_path):
    from vtt.utils.errors import PretrainedWeightsMismatchError
    cfg = dict(vision_encoder=dict(type='CLIPVisionEncoder', pretrained=tiny_clip_dir),
               text_encoder=dict(type='CLIPTextEncoder', pretrained=tiny_clip_dir))
    model = _model(**cfg)
    state = model.state_dict()
    assert not any(k.startswith(('vision_encoder.backbone.', 'text_encoder.backbone.'))
                   for k in state)
    assert 'text_encoder.summary_token' in state  # trainable parts are saved
    full = _model(**{k: dict(v, save_pretrained_weights=True) for k, v in cfg.items()})
    full_state = full.state_dict()
    assert any(k.startswith('vision_encoder.backbone.') for k in full_state)
    path, full_path = tmp_path / 'lean.pth', tmp_path / 'full.pth'
    torch.save(state, path)
    torch.save(full_state, full_path)
    assert path.stat().st_size < 0.5 * full_path.stat().st_size

    # strict loading re-creates the towers from their source and takes the rest
    fresh = _model(**cfg)
    fresh.load_state_dict(torch.load(path), strict=True)
    torch.testing.assert_close(fresh.head.mlp.layers[1].weight, model.head.mlp.layers[1].weight)
    # another model at the source: refused, naming it
    from transformers import CLIPModel
    other_dir = tmp_path / 'other_clip'
    clip = CLIPModel.from_pretrained(tiny_clip_dir)
    with torch.no_grad():
        clip.vision_model.post_layernorm.weight.add_(1.0)
    clip.save_pretrained(other_dir)
    moved = _model(vision_encoder=dict(type='CLIPVisionEncoder', pretrained=str(other_dir)),
                   text_encoder=cfg['text_encoder'])
    with pytest.raises(PretrainedWeightsMismatchError, match='vision_encoder.*other_clip'):
        moved.load_state_dict(torch.load(path), strict=True)
    # a self-contained checkpoint loads whatever the source holds now
    moved_full = _model(**{k: dict(v, save_pretrained_weights=True) for k, v in dict(
        vision_encoder=dict(cfg['vision_encoder'], pretrained=str(other_dir)),
        text_encoder=cfg['text_encoder']).items()})
    moved_full.load_state_dict(torch.load(full_path), strict=True)
    torch.testing.assert_close(moved_full.vision_encoder.backbone.vision_model.post_layernorm
                               .weight, model.vision_encoder.backbone.vision_model
                               .post_layernorm.weight)


def _counting(model):
    """Count the images the vision tower really encodes."""
    calls = []
    original = model._encode_images

    def encode(series, variate_index):
        calls.append(len(series))
        return original(series, variate_index)
    model._encode_images = encode
    return calls


def test_disk_feature_cache_is_reused_across_processes_and_never_stale(tmp_path):
    cache_dir = str(tmp_path / 'features')
    first = _model(feature_cache_dir=cache_dir).eval()
    series = first.data_preprocessor(_batch(), False)['inputs']
    calls = _counting(first)
    with torch.no_grad():
        reference = first.vision_features(series).clone()
    assert sum(calls) == 18 and first.vision_cache.report()['written'] == 18
    report = first.vision_cache.report()
    assert report['shards'] == 1 and report['disk_bytes'] > 0

    # a new model (another run or process) with the same weights reads instead of encoding
    second = _model(feature_cache_dir=cache_dir).eval()
    second.load_state_dict(first.state_dict())
    calls = _counting(second)
    with torch.no_grad():
        torch.testing.assert_close(second.vision_features(series), reference)
    assert calls == [] and second.vision_cache.loaded == 18

    # a renderer setting or one weight changed: another context, recomputed from scratch
    second.renderer.line_width = 3.0
    with torch.no_grad():
        thicker = second.vision_features(series)
        expected = second._encode_images(series.reshape(-1, 12), torch.arange(3).repeat(6))
    assert sum(calls) >= 18
    torch.testing.assert_close(thicker, expected.view(6, 3, -1))
    second.renderer.line_width = first.renderer.line_width
    with torch.no_grad():
        next(second.vision_encoder.backbone.parameters()).add_(0.5)
        calls.clear()
        changed = second.vision_features(series)
    assert sum(calls) == 18 and not torch.allclose(changed, reference)
    assert len([p for p in (tmp_path / 'features').iterdir() if p.is_dir()]) == 3


def test_only_the_writer_writes_and_readers_pick_up_new_shards(tmp_path):
    from vtt.models.utils import FrozenFeatureCache
    rows, tags = torch.randn(4, 5), torch.arange(4)
    computed = []

    def compute(index):
        computed.append(len(index))
        return rows[index].sum(1, keepdim=True).repeat(1, 3)
    reader = FrozenFeatureCache(directory=str(tmp_path), writer=False)
    writer = FrozenFeatureCache(directory=str(tmp_path), writer=True)
    reader.lookup(rows[:2], tags[:2], compute, context='ctx')
    assert reader.report()['written'] == 0 and not list(tmp_path.glob('*/shard-*'))
    out = writer.lookup(rows, tags, compute, context='ctx')
    assert len(list(tmp_path.glob('*/shard-*'))) == 1
    computed.clear()
    again = reader.lookup(rows, tags, compute, context='ctx')  # 2 in memory, 2 from the shard
    assert computed == [] and torch.equal(again, out)
    reader.lookup(rows, tags, compute, context='other')
    assert computed == [4]  # another context never sees the shard
