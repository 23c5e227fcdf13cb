"""MultimodalEMAQuantizer: closed-form EMA, asymmetric mixing, straight-through, dead codes,
k-means init, metrics, and identical codebooks on two gloo ranks."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from vtt.models.tokenizers import code_agreement, codebook_perplexity, dominant_codes
from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

CODES = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])


def build(**kwargs):
    cfg = dict(type='MultimodalEMAQuantizer', modalities=('video', 'current'), num_codes=3,
               embed_dims=2)
    cfg.update(kwargs)
    quantizer = MODELS.build(cfg)
    quantizer.embedding.copy_(CODES)
    quantizer.ema_weight.copy_(CODES)
    return quantizer


def closed_form(features, indices, mix, decay=0.99, eps=1e-5, count=None, weight=None):
    """The EMA step written with one-hot matrices: n = sum_a E_a^T 1,
    S = sum_a E_a^T (sum_s mix[a][s] z_s)."""
    count = torch.ones(3) if count is None else count
    weight = CODES.clone() if weight is None else weight
    n, s = torch.zeros(3), torch.zeros(3, 2)
    for a, idx in indices.items():
        onehot = torch.nn.functional.one_hot(idx.flatten(), 3).float()
        n += onehot.sum(0)
        s += onehot.t() @ sum(w * features[src].reshape(-1, 2) for src, w in mix[a].items())
    count = decay * count + (1 - decay) * n
    weight = decay * weight + (1 - decay) * s
    total = count.sum()
    count = (count + eps) / (total + 3 * eps) * total
    return weight / count.unsqueeze(1), count


def paired_batch():
    video = torch.tensor([[[0.5, 0.1], [3.5, 0.2]], [[0.1, 3.0], [3.9, -0.1]]])
    current = torch.tensor([[[0.2, 0.3], [0.4, 3.6]], [[0.0, 3.8], [4.2, 0.3]]])
    return dict(video=video, current=current)


def test_ema_update_equals_the_closed_form():
    quantizer = build().train()
    batch = paired_batch()
    _, indices, _ = quantizer(batch)
    # nearest codes by hand
    assert indices['video'].tolist() == [[0, 1], [2, 1]]
    assert indices['current'].tolist() == [[0, 2], [2, 1]]
    expected, count = closed_form(batch, indices, quantizer.mix)
    torch.testing.assert_close(quantizer.embedding, expected)
    torch.testing.assert_close(quantizer.ema_count, count)
    # default mix: 0.5 own, 0.5 the other modality (the official two-modality weights)
    assert quantizer.mix == dict(video=dict(video=0.5, current=0.5),
                                 current=dict(video=0.5, current=0.5))


def test_eval_mode_leaves_the_codebook_alone():
    quantizer = build().eval()
    before = {k: v.clone() for k, v in quantizer.state_dict().items()}
    quantizer(paired_batch())
    for key, value in quantizer.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_asymmetric_mix_changes_only_the_intended_modalitys_pull():
    # code 1 is chosen by video at (0,1) and by both at (1,1); code 0 by both at (0,0);
    # make a batch where code 2 is chosen by current only, code 1 by video only
    batch = dict(video=torch.tensor([[[3.8, 0.1]]]), current=torch.tensor([[[0.1, 3.7]]]))
    symmetric = build().train()
    _, indices, _ = symmetric(batch)
    assert indices['video'].item() == 1 and indices['current'].item() == 2
    teacher = dict(video=dict(video=0.95, current=0.05), current=dict(current=0.5, video=0.5))
    asymmetric = build(mix=teacher).train()
    asymmetric(batch)
    # current's code (2) is pulled the same way in both (its row of mix did not change) ...
    torch.testing.assert_close(asymmetric.embedding[2], symmetric.embedding[2])
    # ... video's code (1) is pulled less towards the current vector
    pull = batch['current'][0, 0] - batch['video'][0, 0]
    moved_sym = symmetric.embedding[1] - CODES[1]
    moved_asym = asymmetric.embedding[1] - CODES[1]
    assert torch.dot(moved_asym, pull) < torch.dot(moved_sym, pull)
    expected, _ = closed_form(batch, indices, asymmetric.mix)
    torch.testing.assert_close(asymmetric.embedding, expected)


def test_commitment_terms_and_straight_through_gradient():
    quantizer = build().train()
    batch = {m: z.clone().requires_grad_(True) for m, z in paired_batch().items()}
    quantized, indices, losses = quantizer(batch)
    assert set(losses) == {'loss_commit_video', 'loss_commit_current'}
    codes = {m: CODES[i] for m, i in indices.items()}
    own = torch.nn.functional.mse_loss(batch['video'], codes['video'])
    cross = torch.nn.functional.mse_loss(batch['video'], codes['current'])
    torch.testing.assert_close(losses['loss_commit_video'], 0.5 * own + 0.25 * cross)
    # forward value = the codes (before this step's update), gradient = identity
    torch.testing.assert_close(quantized['video'], codes['video'])
    (quantized['video'] * 3.0).sum().backward()
    torch.testing.assert_close(batch['video'].grad, torch.full_like(batch['video'], 3.0))


def test_inputs_without_time_axis_and_bad_inputs():
    quantizer = build().eval()
    flat = {m: z[:, 0] for m, z in paired_batch().items()}
    quantized, indices, _ = quantizer(flat)
    assert quantized['video'].shape == (2, 2) and indices['current'].shape == (2, )
    with pytest.raises(ValueError, match='built for'):
        quantizer(dict(video=flat['video']))
    with pytest.raises(ValueError, match='same B and T'):
        quantizer(dict(video=flat['video'], current=torch.zeros(3, 2)))
    with pytest.raises(ConfigError, match='sum to 1'):
        build(mix=dict(video=dict(video=0.9), current=dict(current=1.0)))
    with pytest.raises(ConfigError, match='OLD'):
        build(decay=0.01)


def test_dead_codes_restart_from_batch_vectors():
    quantizer = build(dead_code_threshold=2).train()
    batch = dict(video=torch.tensor([[[0.1, 0.1], [0.2, -0.1]]]),
                 current=torch.tensor([[[-0.1, 0.2], [0.0, 0.1]]]))  # all pick code 0
    quantizer(batch)
    assert quantizer.unused_steps.tolist() == [0, 1, 1]
    quantizer(batch)
    vectors = torch.cat([z.reshape(-1, 2) for z in batch.values()])
    for code in (1, 2):
        assert any(torch.equal(quantizer.embedding[code], v) for v in vectors)
        assert quantizer.ema_count[code] == 1.0
    assert quantizer.unused_steps.tolist() == [0, 0, 0]


def test_kmeans_init_finds_the_clusters():
    torch.manual_seed(0)
    centres = torch.tensor([[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0]])
    # paired: step t of both modalities comes from the same cluster
    labels = torch.arange(3).repeat_interleave(40)
    batch = {m: (centres[labels] + 0.1 * torch.randn(120, 2)).view(12, 10, 2)
             for m in ('video', 'current')}
    quantizer = build(kmeans_init=True, decay=0.5).train()
    assert not quantizer.initialised
    quantizer(batch)
    assert quantizer.initialised
    found = sorted(quantizer.embedding.round().tolist())
    assert found == sorted(centres.tolist())
    with pytest.raises(ConfigError, match='at least num_codes'):
        build(kmeans_init=True, num_codes=3).train()(
            dict(video=torch.zeros(1, 1, 2), current=torch.zeros(1, 1, 2)))


def test_perplexity_agreement_and_dominant_codes():
    assert codebook_perplexity(torch.zeros(8, dtype=torch.long), 4).item() == pytest.approx(1.0)
    assert codebook_perplexity(torch.arange(4), 4).item() == pytest.approx(4.0, rel=1e-5)
    a = torch.tensor([[1, 1, 2], [0, 3, 3], [2, 2, 2]])
    b = torch.tensor([[1, 0, 1], [3, 0, 0], [1, 2, 2]])
    assert dominant_codes(a, 4).tolist() == [1, 3, 2]
    assert dominant_codes(torch.tensor([[2, 1]]), 4).tolist() == [1]  # tie: smallest
    assert code_agreement(dict(a=a, b=b), 4).item() == pytest.approx(2 / 3)


# ------------------------------------------------------------------------------ DDP
def _rank_batch(rank, scale=4.0):
    g = torch.Generator().manual_seed(100 + rank)
    return dict(video=scale * torch.rand(2, 3, 2, generator=g),
                current=scale * torch.rand(2, 3, 2, generator=g))


def _worker(rank, port, out):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        from vtt.setup_env import register_all_modules
        register_all_modules()
        torch.manual_seed(rank)  # the ranks would draw different restart vectors
        plain = build(dead_code_threshold=None).train()
        for _ in range(3):
            plain(_rank_batch(rank))
        # every vector near code 0: codes 1 and 2 are unused and restarted at once
        restarting = build(dead_code_threshold=1).train()
        restarting(_rank_batch(rank, scale=0.5))
        torch.save(dict(plain=plain.state_dict(), restarting=restarting.state_dict()),
                   f'{out}.{rank}')
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_keep_identical_codebooks(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = str(tmp_path / 'state')
    mp.spawn(_worker, args=(port, out), nprocs=2, join=True)
    states = [torch.load(f'{out}.{r}', weights_only=True) for r in (0, 1)]
    for name in ('plain', 'restarting'):
        for key in states[0][name]:
            torch.testing.assert_close(states[0][name][key], states[1][name][key])
    # the ranks saw different data and the update used both: it equals one process on the
    # concatenated batch, and differs from rank 0's data alone
    single, alone = build(dead_code_threshold=None).train(), build(dead_code_threshold=None)
    both = {m: torch.cat([_rank_batch(0)[m], _rank_batch(1)[m]]) for m in ('video', 'current')}
    for _ in range(3):
        single(both)
        alone.train()(_rank_batch(0))
    torch.testing.assert_close(states[0]['plain']['embedding'], single.embedding)
    assert not torch.allclose(states[0]['plain']['embedding'], alone.embedding)
    # the restarted codes are rank 0's vectors on both ranks (drawn there, broadcast)
    restarted = states[1]['restarting']['embedding'][1:]
    rank0 = torch.cat([z.reshape(-1, 2) for z in _rank_batch(0, scale=0.5).values()])
    for code in restarted:
        assert (rank0 == code).all(dim=1).any()
