"""The CNN-RNN multi-label head (meteo elements): label sequences, the losses, beam search
against an exhaustive search, thresholds, and that it learns label sets."""
import itertools

import pytest
import torch

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError


def build_head(**kwargs):
    cfg = dict(type='CNNRNNLabelHead', in_channels=16, num_labels=4, embed_dims=12,
               hidden_dims=10, dropout=0.0)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_label_sequences_follow_training_frequency_then_eos():
    head = build_head()
    head.set_train_statistics(dict(class_counts=[5, 40, 0, 12], num_samples=50))
    assert head.label_rank.tolist() == [2, 0, 3, 1]  # 1 (40) > 3 (12) > 0 (5) > 2 (0)
    target = torch.tensor([[1., 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0]])
    seq = head.label_sequences(target, shuffle=False)
    eos = head.eos
    assert seq.tolist() == [[1, 3, 0, eos], [eos, -100, -100, -100], [0, 2, eos, -100]]


def test_shuffled_sequences_keep_the_label_set():
    torch.manual_seed(0)
    head = build_head(shuffle_prob=1.0, num_labels=8)
    target = torch.zeros(64, 8)
    target[:, [1, 4, 6]] = 1
    seq = head.label_sequences(target, shuffle=True)
    assert all(sorted(row[:3].tolist()) == [1, 4, 6] and row[3] == head.eos for row in seq)
    assert len({tuple(row[:3].tolist()) for row in seq}) > 1  # orders differ
    assert len({tuple(r[:3].tolist()) for r in head.label_sequences(target, False)}) == 1


def test_loss_terms_and_gradients_with_scheduled_sampling():
    torch.manual_seed(0)
    head = build_head(class_weighting='inverse_frequency')
    head.set_train_statistics(dict(class_counts=[2, 30, 10, 8], num_samples=40))
    assert head.bce_pos_weight[0] > head.bce_pos_weight[1]  # the rare label's positives count
    assert head.seq_class_weight[0] > head.seq_class_weight[1]
    head.train()
    head.teacher_forcing = 0.5
    feats, target = torch.randn(6, 16), (torch.rand(6, 4) < 0.5).float()
    losses = head.loss(feats, dict(label=target))
    assert set(losses) == {'loss_bce', 'loss_seq', 'teacher_forcing'}
    assert losses['teacher_forcing'].item() == 0.5
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name


def test_sequence_scores_mask_bos_and_earlier_labels():
    head = build_head().eval()
    seq = torch.tensor([[2, 0, 3, head.eos]])
    scores = head.sequence_scores(torch.randn(1, 12), seq)
    assert torch.isinf(scores[..., head.bos]).all()
    assert torch.isinf(scores[0, 1, 2]) and torch.isinf(scores[0, 3, [0, 2, 3]]).all()
    assert torch.isfinite(scores[0, 0, :head.bos]).all()


def sequence_logp(head, v, labels):
    """log P(labels..., <eos> | image) by teacher forcing (what the beam search scores)."""
    seq = torch.tensor([list(labels) + [head.eos]])
    log_prob = torch.log_softmax(head.sequence_scores(v[None], seq), -1)
    return float(log_prob[0].gather(-1, seq[0, :, None]).sum().detach())


def test_beam_search_finds_the_most_probable_sequence():
    torch.manual_seed(3)
    L = 4
    head = build_head(num_labels=L, beam_width=64, max_length=L).eval()
    for p in head.parameters():  # sharper distributions than the default init
        p.data.mul_(2)
    v = torch.randn(64, 12)
    every = [seq for n in range(L + 1) for seq in itertools.permutations(range(L), n)]
    best, pool_logp, pool_sets = head.beam_search(v)
    greedy_logp = build_head_like(head, beam_width=1).beam_search(v)[1][:, 0]
    greedy_misses = 0
    for i in range(len(v)):
        logps = [sequence_logp(head, v[i], seq) for seq in every]
        top = max(range(len(every)), key=logps.__getitem__)
        assert pool_logp[i, 0].item() == pytest.approx(logps[top], abs=1e-4)
        assert sorted(best[i].nonzero().flatten().tolist()) == sorted(every[top])
        assert torch.all(pool_logp[i, :-1] >= pool_logp[i, 1:])  # the pool is sorted
        greedy_misses += greedy_logp[i].item() < logps[top] - 1e-4
    assert greedy_misses > 0  # the case is one where searching matters


def build_head_like(head, **kwargs):
    other = build_head(num_labels=head.num_labels, **kwargs).eval()
    other.load_state_dict(head.state_dict())
    return other


def test_beam_search_is_vectorised_over_the_batch():
    torch.manual_seed(3)
    head = build_head(num_labels=6, beam_width=3).eval()
    v = torch.randn(7, 12)
    best, pool_logp, _ = head.beam_search(v)
    for i in range(len(v)):
        one_best, one_logp, _ = head.beam_search(v[i:i + 1])
        assert torch.equal(one_best[0], best[i])
        assert torch.allclose(one_logp[0], pool_logp[i], atol=1e-5)


def test_beam_search_stops_at_max_length():
    torch.manual_seed(0)
    head = build_head(num_labels=8, max_length=2).eval()
    with torch.no_grad():  # make <eos> very unlikely: paths would grow without the limit
        head.label_embed.weight[head.eos].fill_(-5.0)
    best, _, pool_sets = head.beam_search(torch.randn(4, 12).abs())
    assert pool_sets.sum(-1).max() <= 2


def test_predict_records_both_decodings_and_per_label_thresholds():
    torch.manual_seed(0)
    head = build_head(decode='parallel').eval()
    head.set_threshold([0.1, 0.9, 0.5, 0.99])
    assert 'threshold' in dict(head.named_buffers())
    records = head.predict(torch.randn(3, 16), dict(label=torch.zeros(3, 4)))
    assert set(records[0]) >= {'pred_score', 'pred_label', 'parallel_label', 'beam_label',
                               'beam_score', 'gt_label'}
    for r in records:
        assert torch.equal(r['pred_label'], r['parallel_label'])
        assert torch.equal(r['parallel_label'],
                           (r['pred_score'] >= torch.tensor([0.1, 0.9, 0.5, 0.99])).long())
        assert 0 <= r['beam_score'].min() and r['beam_score'].max() <= 1 + 1e-6
        # every label of the best beam has a share of the pool's probability
        assert (r['beam_score'][r['beam_label'].bool()] > 0).all()
    with pytest.raises(ConfigError, match='3 thresholds for 4 labels'):
        head.set_threshold([0.5, 0.5, 0.5])


def test_head_errors_are_clear():
    with pytest.raises(ConfigError, match='decode'):
        build_head(decode='greedy')
    head = build_head()
    with pytest.raises(ConfigError, match='num_labels=4'):
        head.set_train_statistics(dict(class_counts=[1, 2, 3]))
    with pytest.raises(ValueError, match=r'multi-hot labels \[B, 4\]'):
        head.loss(torch.randn(2, 16), dict(label=torch.tensor([1, 0])))


def test_head_learns_label_sets_with_both_decodings():
    """Features carry the labels (plus noise); after training, the beam search returns the
    true sets and the parallel head ranks them."""
    torch.manual_seed(0)
    L = 6
    head = build_head(in_channels=L + 10, num_labels=L, embed_dims=32, hidden_dims=32)
    # labels 0 and 1 always together (a co-occurrence to learn), the others independent
    target = (torch.rand(512, L) < 0.35).float()
    target[:, 1] = target[:, 0]
    feats = torch.cat([2 * target - 1, torch.randn(512, 10)], 1) + 0.3 * torch.randn(512, L + 10)
    head.set_train_statistics(dict(class_counts=target.sum(0).tolist(), num_samples=512))
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-2)
    head.train()
    for step in range(150):
        index = torch.randint(0, 384, (64, ))
        losses = head.loss(feats[index], dict(label=target[index]))
        optimizer.zero_grad()
        (losses['loss_bce'] + losses['loss_seq']).backward()
        optimizer.step()
    head.eval()
    records = head.predict(feats[384:], dict(label=target[384:]))
    beam = torch.stack([r['beam_label'] for r in records]).float()
    parallel = torch.stack([r['parallel_label'] for r in records]).float()
    exact = (beam == target[384:]).all(1).float().mean()
    assert exact > 0.9, exact
    assert (parallel == target[384:]).float().mean() > 0.95
