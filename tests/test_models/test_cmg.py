"""CMG: encoders and decoders, the pretrainer (every term, CLUB's own optimizer, DDP), the
cross-modal classifier (pretrained loading, frozen codes, per-modality predictions) and TOC."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from vtt.models.tokenizers import toc_channel_scores, toc_select_channels
from vtt.models.utils import patchify, unpatchify
from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

D = 32


def series(c, p=4):
    return dict(semantic=dict(type='SemanticEncoder', in_channels=c, patch_size=p, embed_dims=D,
                              num_heads=2, feedforward_channels=64, dropout=0.0),
                specific=dict(type='VectorSpecificEncoder', in_channels=c, patch_size=p,
                              out_dims=16),
                decoder=dict(type='VectorDecoder', out_channels=c, patch_size=p, embed_dims=D,
                             specific_dims=16))


def pretrainer_cfg(**kwargs):
    cfg = dict(type='CMGPretrainer', modalities=dict(acc=series(3), gyro=series(2)),
               data_preprocessor=dict(type='MultimodalDataPreprocessor',
                                      num_variates=dict(acc=3, gyro=2)),
               quantizer=dict(type='MultimodalEMAQuantizer', num_codes=16),
               cross_cpc=dict(type='CrossCPCLoss', num_steps=2, context_dims=16),
               club=dict(hidden_dims=16, steps=5, optimizer=dict(type='Adam', lr=1e-2)))
    cfg.update(kwargs)
    return cfg


STATS = dict(acc=dict(mean=[0.0] * 3, std=[1.0] * 3), gyro=dict(mean=[0.0] * 2, std=[1.0] * 2))


def build_pretrainer(**kwargs):
    model = MODELS.build(pretrainer_cfg(**kwargs))
    model.set_train_statistics(STATS)
    model.init_weights()
    return model


def batch(seed=0, b=6):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(acc=torch.randn(b, 3, 32, generator=g),
                            gyro=torch.randn(b, 2, 32, generator=g)),
                data_samples=dict(label=torch.arange(b) % 2, index=torch.arange(b)))


# --------------------------------------------------------------------- components
def test_patchify_round_trip_and_errors():
    x = torch.randn(2, 3, 12)
    tokens = patchify(x, 4)
    assert tokens.shape == (2, 3, 12)
    # token 1 holds steps 4..7 of every channel, channel-major
    torch.testing.assert_close(tokens[0, 1], x[0, :, 4:8].reshape(-1))
    torch.testing.assert_close(unpatchify(tokens, 3), x)
    with pytest.raises(ConfigError, match='multiple of patch_size=5'):
        patchify(x, 5)


def test_encoders_and_decoders_shapes():
    sem = MODELS.build(series(3)['semantic'])
    assert sem(torch.randn(2, 3, 32)).shape == (2, 8, D)
    with pytest.raises(ValueError, match=r'\[B, 3, L\]'):
        sem(torch.randn(2, 4, 32))
    video = MODELS.build(dict(type='VideoSemanticEncoder', in_channels=8, reduction=2,
                              attention_dims=8, embed_dims=D, num_heads=2,
                              feedforward_channels=32))
    maps = torch.randn(2, 5, 8, 7, 7)
    assert video(maps).shape == (2, 5, D)
    weights = video.spatial_weights(maps)
    assert weights.shape == (2, 5, 7, 7)
    torch.testing.assert_close(weights.sum((2, 3)), torch.ones(2, 5))
    specific = MODELS.build(dict(type='MapSpecificEncoder', in_channels=8,
                                 hidden_channels=(12, 16)))
    features, summary = specific(maps)
    assert features.shape == (2, 5, 16, 3, 3) and summary.shape == (2, 5, 16)
    decoder = MODELS.build(dict(type='MapDecoder', out_channels=8, embed_dims=D,
                                specific_channels=16, hidden_channels=12))
    assert decoder(torch.randn(2, 5, D), features).shape == maps.shape


def test_toc_scores_match_the_formula():
    codes = torch.randn(6, 5)
    brute = torch.zeros(5)
    for d in range(5):
        pairs = [codes[i, d] * codes[j, d] for i in range(6) for j in range(6) if i != j]
        brute[d] = -0.7 * torch.stack(pairs).mean() + 0.3 * codes[:, d].var(unbiased=False)
    torch.testing.assert_close(toc_channel_scores(codes), brute)
    kept = toc_select_channels(codes, 2)
    assert kept.tolist() == sorted(brute.topk(2).indices.tolist())


def test_triplet_term_vanishes_for_separated_pairs():
    loss = MODELS.build(dict(type='CrossModalTripletLoss', margin=1.0))
    far = torch.eye(4) * 10
    assert loss(dict(a=far, b=far.clone())) == 0
    assert loss(dict(a=far, b=torch.zeros(4, 4))) > 0


# --------------------------------------------------------------------- pretrainer
def test_pretrainer_logs_every_term_and_gradients_reach_the_encoders():
    model = build_pretrainer(triplet=dict(type='CrossModalTripletLoss'))
    data = model.data_preprocessor(batch(), True)
    losses = model(data['inputs'], mode='loss')
    for key in ('loss_commit_acc', 'loss_commit_gyro', 'loss_recon_acc', 'loss_recon_gyro',
                'loss_club_acc', 'loss_club_gyro', 'club_nll_acc', 'loss_cpc', 'loss_cmcm',
                'loss_triplet', 'perplexity_acc', 'perplexity_gyro', 'code_agreement',
                'cpc_acc_acc2gyro', 'cpc_acc_gyro2acc'):
        assert key in losses and torch.isfinite(losses[key])
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    for name in ('semantic_encoders', 'specific_encoders', 'decoders', 'cross_cpc'):
        grads = [p.grad for p in getattr(model, name).parameters()]
        assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
    # the estimator learns only from its own optimizer: the main loss leaves its grads None
    assert all(p.grad is None for p in model.club.parameters())
    assert model._ddp_params_and_buffers_to_ignore == [
        f'club.{n}' for n, _ in model.club.named_parameters()]


def test_club_estimator_trains_on_its_own_and_its_optimizer_state_is_saved(tmp_path):
    model = build_pretrainer()
    data = model.data_preprocessor(batch(), True)
    before = [p.clone() for p in model.club.parameters()]
    nll = [float(model(data['inputs'], mode='loss')['club_nll_acc']) for _ in range(4)]
    assert nll[-1] < nll[0]  # 20 estimator steps on the same features fit q(y | x)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.club.parameters()))
    # mmengine's training step: the main loss leaves the estimator's grads None, so the main
    # optimizer (built over all parameters) skips it
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1))
    model.train_step(batch(), optim)
    assert all(p.grad is None for p in model.club.parameters())
    state = model.state_dict()
    assert state['_extra_state']['club_optimizer']['state']  # Adam moments are saved
    other = build_pretrainer()
    other.load_state_dict(state)
    optimizer = other._club_optim()
    assert optimizer.state_dict()['state'].keys() == state['_extra_state'][
        'club_optimizer']['state'].keys()


def test_pretrainer_config_errors():
    with pytest.raises(ConfigError, match='at least 2'):
        MODELS.build(pretrainer_cfg(modalities=dict(acc=series(3))))
    bad = dict(acc=series(3), gyro=dict(series(2), decoder=None))
    with pytest.raises(ConfigError, match='both specific and decoder'):
        MODELS.build(pretrainer_cfg(modalities=bad))
    model = build_pretrainer()
    with pytest.raises(Exception, match='modalities'):
        model.data_preprocessor(dict(inputs=dict(acc=torch.randn(2, 3, 32))), True)


# --------------------------------------------------------------------- classifier
def classifier_cfg(**kwargs):
    cfg = dict(type='CMGCrossModalClassifier', num_classes=2, train_modality='acc',
               modalities=dict(acc=series(3), gyro=series(2)),
               quantizer=dict(type='MultimodalEMAQuantizer', num_codes=16),
               head=dict(type='TemporalMaxClsHead', hidden_channels=8),
               data_preprocessor=dict(type='MultimodalDataPreprocessor',
                                      num_variates=dict(acc=3, gyro=2)))
    cfg.update(kwargs)
    return cfg


def test_classifier_loads_the_pretrained_codes_and_predicts_every_modality(tmp_path):
    pre = build_pretrainer()
    for seed in range(3):  # move the codebook away from its initialisation
        pre(pre.data_preprocessor(batch(seed), True)['inputs'], mode='loss')
    ckpt = tmp_path / 'pre.pth'
    torch.save(dict(state_dict=pre.state_dict()), ckpt)
    model = MODELS.build(classifier_cfg(pretrained=str(ckpt)))
    model.set_train_statistics(STATS)
    model.init_weights()
    torch.testing.assert_close(model.quantizer.embedding, pre.quantizer.embedding)
    for m in ('acc', 'gyro'):
        for (k, v), w in zip(model.semantic_encoders[m].state_dict().items(),
                             pre.semantic_encoders[m].state_dict().values()):
            torch.testing.assert_close(v, w, msg=k)
    # frozen and in eval mode in training: no codebook update, only the head learns
    model.train()
    assert not model.quantizer.training and not model.semantic_encoders.training
    codebook = model.quantizer.embedding.clone()
    data = model.data_preprocessor(batch(), True)
    model(data['inputs'], data['data_samples'], mode='loss')['loss_cls'].backward()
    assert torch.equal(model.quantizer.embedding, codebook)
    assert all(p.grad is None for p in model.semantic_encoders.parameters())
    assert all(p.grad is not None for p in model.head.parameters())
    # the features are the codes of the shared codebook
    feats = model.features(data['inputs']['gyro'], 'gyro')
    assert feats.shape == (6, 8, D)
    rows = (feats.reshape(-1, D)[:, None] == pre.quantizer.embedding[None]).all(-1).any(-1)
    assert rows.all()
    records = model(data['inputs'], data['data_samples'], mode='predict')
    assert {'pred_label_acc', 'pred_label_gyro', 'pred_score_gyro', 'pred_label'} <= set(
        records[0])
    assert records[0]['pred_label'] == records[0]['pred_label_acc']


def test_classifier_toc_channels_and_errors(tmp_path):
    model = MODELS.build(classifier_cfg(toc_channels=5))
    model.init_weights()
    expected = toc_select_channels(model.quantizer.embedding, 5)
    assert torch.equal(model.kept_channels, expected)
    model.set_train_statistics(STATS)
    data = model.data_preprocessor(batch(), False)
    assert model.features(data['inputs']['acc'], 'acc').shape == (6, 8, 5)
    with pytest.raises(ConfigError, match='train_modality'):
        MODELS.build(classifier_cfg(train_modality='video'))
    missing = MODELS.build(classifier_cfg(pretrained=str(tmp_path / 'none.pth')))
    with pytest.raises(Exception, match='none.pth'):
        missing.init_weights()


# --------------------------------------------------------------------- DDP
def _ddp_worker(rank, port, out):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        from vtt.setup_env import register_all_modules
        register_all_modules()
        torch.manual_seed(0)
        model = build_pretrainer()
        wrapped = MMDistributedDataParallel(model, device_ids=None)
        optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
        torch.manual_seed(rank)  # different data, CPC steps and CLUB shuffles per rank
        for step in range(2):
            wrapped.train_step(batch(seed=10 * step + rank), optim)
        torch.save(model.state_dict(), f'{out}.{rank}')
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_keep_one_model_club_and_codebook(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    out = str(tmp_path / 'state')
    mp.spawn(_ddp_worker, args=(port, out), nprocs=2, join=True)
    states = [torch.load(f'{out}.{r}', weights_only=False) for r in (0, 1)]
    start = build_pretrainer().state_dict()
    for key, value in states[0].items():
        if key == '_extra_state':
            continue
        torch.testing.assert_close(value, states[1][key], msg=key)
    # and training moved them (the ranks agree on something other than the initial state)
    for key in ('club.acc.mu.0.weight', 'quantizer.embedding',
                'semantic_encoders.acc.temporal.proj.weight'):
        assert not torch.equal(states[0][key], start[key]), key
