import pytest
import torch

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError


def test_linear_head_owns_loss_and_predictions():
    head = MODELS.build(dict(type='LinearClsHead', num_classes=3, in_channels=4,
                             loss=dict(type='CrossEntropyLoss', label_smoothing=0.1)))
    feats = torch.randn(5, 4)
    labels = torch.tensor([0, 1, 2, 0, 1])
    loss = head.loss(feats, dict(label=labels))['loss_cls']
    expected = torch.nn.functional.cross_entropy(head(feats), labels, label_smoothing=0.1)
    torch.testing.assert_close(loss, expected)
    preds = head.predict(feats, dict(label=labels, index=torch.arange(10, 15)))
    assert [p['gt_label'] for p in preds] == labels.tolist()
    assert [p['index'] for p in preds] == list(range(10, 15))
    scores = torch.stack([p['pred_score'] for p in preds])
    torch.testing.assert_close(scores, head(feats).softmax(-1))
    assert [p['pred_label'] for p in preds] == scores.argmax(-1).tolist()


def test_class_counts_reach_the_loss_through_the_head():
    head = MODELS.build(dict(type='MLPClsHead', num_classes=4, in_channels=8,
                             loss=dict(type='FocalLoss', alpha='auto')))
    assert head.loss_module.num_classes == 4  # passed because FocalLoss declares it
    head.set_train_statistics(dict(class_counts=[1, 1, 1, 5]))
    assert head.loss_module.alpha.tolist() == pytest.approx([2.0, 2.0, 2.0, 0.4])
    with pytest.raises(ConfigError, match='3 classes'):
        head.set_train_statistics(dict(class_counts=[1, 1, 1]))
    # a loss without class counts is simply left alone
    ce = MODELS.build(dict(type='LinearClsHead', num_classes=2, in_channels=3))
    ce.set_train_statistics(dict(class_counts=[3, 4]))


def test_build_loss_passes_num_classes_only_where_declared():
    from vtt.models.heads import build_loss
    assert build_loss(dict(type='FocalLoss'), num_classes=5).num_classes == 5
    assert isinstance(build_loss(dict(type='CrossEntropyLoss'), num_classes=5),
                      torch.nn.Module)
    with pytest.raises(ConfigError, match='num_classes=3.*num_classes=5'):
        build_loss(dict(type='FocalLoss', num_classes=3), num_classes=5)
