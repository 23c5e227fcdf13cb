"""CMG's losses: CWCL, CMCM, CLUB and Cross-CPC, built through the registry."""
import pytest
import torch

from vtt.models.losses import cwcl, info_nce
from vtt.registry import MODELS


def test_cwcl_matches_its_formula_and_reduces_to_infonce_weights():
    torch.manual_seed(0)
    p, q, t = torch.randn(5, 4), torch.randn(5, 4), torch.randn(5, 3)
    pn, qn, tn = (x / x.norm(dim=1, keepdim=True) for x in (p, q, t))
    logits = pn @ qn.t() / 0.2
    expected = 0.0
    for i in range(5):
        w = [float(tn[i] @ tn[j]) / 2 + 0.5 for j in range(5)]
        log_prob = logits[i] - torch.logsumexp(logits[i], 0)
        expected += -sum(w[j] * log_prob[j] for j in range(5)) / sum(w)
    torch.testing.assert_close(cwcl(p, q, 0.2, teacher=t), expected / 5)
    loss = MODELS.build(dict(type='CWCLLoss', temperature=0.2, loss_weight=2.0))
    torch.testing.assert_close(loss(p, q, t), 2 * expected / 5)
    # a teacher that finds all samples alike spreads the target over the whole row: the
    # loss no longer rewards picking the pair, unlike InfoNCE
    aligned = q.clone()
    same = torch.ones(5, 3)
    assert cwcl(aligned, q, 0.2, teacher=same) > info_nce(aligned, q, 0.2, symmetric=False)


def test_cmcm_prefers_matched_code_distributions():
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='CMCMLoss'))
    a = torch.softmax(3 * torch.randn(8, 4, 16), -1)
    matched = loss(dict(a=a, b=a.clone()))
    shuffled = loss(dict(a=a, b=a[torch.roll(torch.arange(8), 1)]))
    assert matched < shuffled
    # [B, M] (no time axis) works the same as T = 1
    torch.testing.assert_close(loss(dict(a=a[:, 0], b=a[:, 0])),
                               loss(dict(a=a[:, :1], b=a[:, :1])))


def _club_estimate(sample, steps=200):
    """Fit q(y|x) on fresh batches of ``sample()``, then estimate on a held-out batch."""
    club = MODELS.build(dict(type='CLUBEstimator', x_dims=4, y_dims=3, hidden_dims=32))
    optim = torch.optim.Adam(club.parameters(), lr=1e-2)
    for _ in range(steps):
        optim.zero_grad()
        club.learning_loss(*sample(256)).backward()
        optim.step()
    with torch.no_grad():
        return club(*sample(2048)).item()


def test_club_estimate_is_higher_for_dependent_pairs():
    torch.manual_seed(0)
    mixing = torch.randn(4, 3)

    def dependent(n):
        x = torch.randn(n, 4)
        return x, x @ mixing + 0.1 * torch.randn(n, 3)

    def independent(n):
        return torch.randn(n, 4), torch.randn(n, 3)

    high, low = _club_estimate(dependent), _club_estimate(independent)
    assert high > 1.0 > abs(low)


def _lagged_pair(batch=16, steps=12, dims=8, lag=2):
    a = torch.randn(batch, steps + lag, dims)
    return dict(a=a[:, lag:], b=a[:, :steps])  # b_t = a_{t - lag}: b follows a


def test_cross_cpc_accuracy_rises_on_a_lagged_pair():
    torch.manual_seed(0)
    cpc = MODELS.build(dict(type='CrossCPCLoss', modalities=('a', 'b'), embed_dims=8,
                            context_dims=32, num_layers=1, num_steps=2))
    optim = torch.optim.Adam(cpc.parameters(), lr=1e-2)
    first = None
    for step in range(150):
        loss, acc = cpc(_lagged_pair())
        if first is None:
            first = acc['cpc_acc_a2b'].item()
        optim.zero_grad()
        loss.backward()
        optim.step()
    with torch.no_grad():
        _, acc = cpc(_lagged_pair(batch=64), t=5)
    # b's next steps are a's past: predictable from a's context (chance: 1/16, then 1/64)
    assert first < 0.3 and acc['cpc_acc_a2b'] > 0.6
    assert set(acc) == {'cpc_acc_a2a', 'cpc_acc_a2b', 'cpc_acc_b2a', 'cpc_acc_b2b'}


def test_cross_cpc_without_time_axis_and_too_short_series():
    cpc = MODELS.build(dict(type='CrossCPCLoss', modalities=('a', 'b'), embed_dims=8,
                            context_dims=8, num_steps=5))
    x = torch.randn(6, 8)
    loss, acc = cpc(dict(a=x, b=x.clone()))
    torch.testing.assert_close(loss, info_nce(x, x, 0.1))
    assert acc['cpc_acc_a2b'] == 1.0 and acc['cpc_acc_b2a'] == 1.0
    loss_t1, _ = cpc(dict(a=x[:, None], b=x[:, None]))
    torch.testing.assert_close(loss_t1, loss)
    with pytest.raises(ValueError, match='needs T >= 7'):
        cpc(dict(a=torch.randn(2, 6, 8), b=torch.randn(2, 6, 8)))
    cwcl_cpc = MODELS.build(dict(type='CrossCPCLoss', modalities=('a', 'b'), embed_dims=8,
                                 context_dims=8, num_steps=1, contrast='cwcl'))
    loss, _ = cwcl_cpc(_lagged_pair(steps=6))
    assert torch.isfinite(loss)
