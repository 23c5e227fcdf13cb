import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vtt.models.losses import balanced_class_weights
from vtt.registry import MODELS


def test_focal_reduces_to_cross_entropy_at_gamma_zero():
    torch.manual_seed(0)
    logits, target = torch.randn(8, 4), torch.randint(0, 4, (8, ))
    focal = MODELS.build(dict(type='FocalLoss', num_classes=4, gamma=0.0, alpha=None))
    torch.testing.assert_close(focal(logits, target), F.cross_entropy(logits, target))


def test_focal_hand_computed_value():
    # p_t = softmax([ln 3, 0])[0] = 0.75; FL = -alpha (1 - 0.75)^2 ln 0.75
    logits = torch.tensor([[math.log(3.0), 0.0]])
    focal = MODELS.build(dict(type='FocalLoss', num_classes=2, gamma=2.0, alpha=[0.4, 0.6]))
    expected = -0.4 * 0.25**2 * math.log(0.75)
    assert float(focal(logits, torch.tensor([0]))) == pytest.approx(expected, rel=1e-6)


def test_focal_down_weights_easy_examples():
    easy, hard = torch.tensor([[4.0, 0.0]]), torch.tensor([[0.2, 0.0]])
    target = torch.tensor([0])
    focal = MODELS.build(dict(type='FocalLoss', num_classes=2, gamma=2.0, alpha=None))
    ratio_focal = focal(easy, target) / focal(hard, target)
    ratio_ce = F.cross_entropy(easy, target) / F.cross_entropy(hard, target)
    assert ratio_focal < 0.1 * ratio_ce


def test_balanced_weights_match_seed_report():
    np.testing.assert_allclose(balanced_class_weights([671, 1210, 1288, 2388]),
                               [2.07, 1.15, 1.08, 0.58], atol=0.005)


def test_focal_auto_alpha_from_class_counts():
    focal = MODELS.build(dict(type='FocalLoss', num_classes=2, alpha='auto'))
    torch.testing.assert_close(focal.alpha, torch.ones(2))
    focal.set_class_counts([30, 10])
    torch.testing.assert_close(focal.alpha, torch.tensor([40 / 60, 40 / 20]))
    assert 'alpha' in focal.state_dict()  # travels with the checkpoint


def test_focal_rejects_wrong_alpha():
    with pytest.raises(ValueError, match='3 entries for 2 classes'):
        MODELS.build(dict(type='FocalLoss', num_classes=2, alpha=[1, 2, 3]))


def test_info_nce_hand_computed():
    # Orthonormal pairs: positive cosine 1, negatives 0 -> loss = -log(e^{1/t} / (e^{1/t} + 1))
    a = torch.eye(2).view(2, 1, 2)
    loss = MODELS.build(dict(type='InfoNCELoss', temperature=0.5, mode='per_variate'))
    expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 1.0))
    assert float(loss(a, a.clone())) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('mode', ['per_variate', 'global', 'hybrid'])
def test_info_nce_aligned_pairs_beat_shuffled(mode):
    torch.manual_seed(0)
    img = torch.randn(16, 5, 32)
    txt = img + 0.05 * torch.randn_like(img)
    loss = MODELS.build(dict(type='InfoNCELoss', mode=mode))
    aligned = loss(img, txt)
    shuffled = loss(img, txt[torch.randperm(16)])
    assert aligned < 0.2 * shuffled


def test_info_nce_hybrid_is_the_mix():
    torch.manual_seed(1)
    a, b = torch.randn(6, 3, 8), torch.randn(6, 3, 8)
    per = MODELS.build(dict(type='InfoNCELoss', mode='per_variate'))(a, b)
    glob = MODELS.build(dict(type='InfoNCELoss', mode='global'))(a, b)
    hybrid = MODELS.build(dict(type='InfoNCELoss', mode='hybrid', alpha=0.3))(a, b)
    torch.testing.assert_close(hybrid, 0.3 * per + 0.7 * glob)


def test_info_nce_learnable_temperature_gets_gradient():
    loss = MODELS.build(dict(type='InfoNCELoss', learnable_temperature=True))
    a = torch.randn(4, 2, 8)
    loss(a, a + 0.1).backward()
    assert loss.log_scale.grad is not None and loss.log_scale.grad != 0
