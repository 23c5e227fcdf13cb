"""The meteo gate's model parts: timm encoder loading, BCE + focal loss, the one-logit head
with its stored threshold, and the image classifier around them."""
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torchvision.ops import sigmoid_focal_loss

from vtt.registry import MODELS
from vtt.utils.errors import (
    ConfigError,
    PretrainedWeightsMismatchError,
    PretrainedWeightsNotFoundError,
)

TINY = dict(type='TimmEncoder', model_name='test_resnet')


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


def test_timm_encoder_shapes():
    encoder = MODELS.build(TINY)
    images = torch.rand(2, 3, 64, 80)
    assert encoder(images).shape == (2, encoder.output_dim)
    fmap = MODELS.build(dict(TINY, out_type='feature_map'))(images)
    assert fmap.dim() == 4 and fmap.shape[:2] == (2, encoder.output_dim)
    resized = MODELS.build(dict(TINY, out_type='feature_map', image_size=(32, 32)))(images)
    assert resized.shape[-2:] != fmap.shape[-2:]


def test_timm_encoder_loads_a_local_file_and_directory(tmp_path):
    """The real loading path (timm's pretrained loader) on weights saved to disk."""
    source = MODELS.build(TINY)
    torch.save(source.model.state_dict(), tmp_path / 'weights.pth')
    (tmp_path / 'hfdir').mkdir()
    save_file({k: v.contiguous() for k, v in source.model.state_dict().items()},
              str(tmp_path / 'hfdir' / 'model.safetensors'))
    for pretrained in (tmp_path / 'weights.pth', tmp_path / 'hfdir'):
        loaded = MODELS.build(dict(TINY, pretrained=str(pretrained)))
        assert same_weights(source.model, loaded.model)
    assert not same_weights(source.model, MODELS.build(TINY).model)  # random differs


def test_timm_encoder_errors_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match='no model'):
        MODELS.build(dict(type='TimmEncoder', model_name='resnet_typo'))
    with pytest.raises(PretrainedWeightsNotFoundError, match='save_for_hf'):
        MODELS.build(dict(TINY, pretrained=str(tmp_path / 'missing')))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(PretrainedWeightsNotFoundError, match='model.safetensors'):
        MODELS.build(dict(TINY, pretrained=str(tmp_path / 'empty')))
    other = MODELS.build(dict(type='TimmEncoder', model_name='resnet10t'))
    torch.save(other.model.state_dict(), tmp_path / 'other.pth')
    with pytest.raises(PretrainedWeightsMismatchError, match='test_resnet'):
        MODELS.build(dict(TINY, pretrained=str(tmp_path / 'other.pth')))

    import timm

    def offline(*args, **kwargs):
        raise OSError('cannot reach the hub')

    monkeypatch.setattr(timm, 'create_model', offline)
    with pytest.raises(PretrainedWeightsNotFoundError, match='local file or directory'):
        MODELS.build(dict(TINY, pretrained='hf-hub:timm/test_resnet.r160_in1k'))


def test_bce_focal_loss_mixes_its_two_terms():
    logits, target = torch.randn(16), (torch.rand(16) > 0.5).float()
    bce = F.binary_cross_entropy_with_logits(logits, target)
    focal = sigmoid_focal_loss(logits, target, alpha=-1, gamma=2.0, reduction='mean')
    loss = MODELS.build(dict(type='BCEFocalLoss'))
    assert torch.allclose(loss(logits, target), 0.7 * bce + 0.3 * focal)
    assert torch.allclose(MODELS.build(dict(type='BCEFocalLoss', bce_weight=1.0))(logits, target),
                          bce)
    multi = MODELS.build(dict(type='BCEFocalLoss'))(torch.randn(4, 5), torch.ones(4, 5))
    assert multi.dim() == 0 and multi > 0
    with pytest.raises(ValueError, match='bce_weight'):
        MODELS.build(dict(type='BCEFocalLoss', bce_weight=1.5))


def test_bce_focal_loss_weighs_elements():
    logits, target = torch.randn(4, 3), (torch.rand(4, 3) > 0.5).float()
    loss = MODELS.build(dict(type='BCEFocalLoss'))
    weight = torch.tensor([2.0, 0.0, 1.0])  # per label, broadcast over the batch
    elementwise = 0.7 * F.binary_cross_entropy_with_logits(logits, target, reduction='none') \
        + 0.3 * sigmoid_focal_loss(logits, target, alpha=-1, gamma=2.0, reduction='none')
    assert torch.allclose(loss(logits, target, weight=weight), (elementwise * weight).mean())


def test_binary_head_threshold_decides_and_travels_in_the_state_dict():
    head = MODELS.build(dict(type='BinaryClsHead', in_channels=4))
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0, 0, 0]]))
        head.fc.bias.zero_()
    feats = torch.tensor([[-2.0, 0, 0, 0], [0.5, 0, 0, 0], [3.0, 0, 0, 0]])
    samples = dict(label=torch.tensor([0.0, 1.0, 1.0]))
    records = head.predict(feats, samples)
    assert [r['pred_label'] for r in records] == [0, 1, 1]
    assert records[1]['pred_score'] == pytest.approx(torch.sigmoid(torch.tensor(0.5)).item())
    assert [r['gt_label'] for r in records] == [0.0, 1.0, 1.0]
    head.set_threshold(0.7)
    assert [r['pred_label'] for r in head.predict(feats)] == [0, 0, 1]
    fresh = MODELS.build(dict(type='BinaryClsHead', in_channels=4))
    fresh.load_state_dict(head.state_dict())
    assert fresh.threshold.item() == pytest.approx(0.7)
    assert head.loss(feats, samples)['loss_cls'] > 0
    with pytest.raises(ConfigError, match='threshold'):
        head.set_threshold(1.0)


def test_image_classifier_learns_a_batch():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='ImageClassifier', backbone=TINY,
                              head=dict(type='BinaryClsHead')))
    assert model.head.in_channels == model.backbone.output_dim
    images = torch.rand(8, 3, 48, 48)
    images[4:, 0] += 1.0  # the positives are redder
    samples = dict(label=torch.tensor([0.0] * 4 + [1.0] * 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = model(images, samples, mode='loss')['loss_cls']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    predictions = model(images, samples, mode='predict')
    assert [p['pred_label'] for p in predictions] == [0] * 4 + [1] * 4
