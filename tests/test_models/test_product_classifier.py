"""The product stage: a tiny random multimodal Gemma 3 written to disk and loaded through the
real path (from_pretrained, 4-bit NF4 with the vision tower and lm_head kept, LoRA on the
language model), prompts through the chat template, the answer-only loss, candidate scoring
with the prompt encoded once, and adapter-only checkpoints."""
import pytest
import torch

from vtt.datasets.meteo_products import product_collate
from vtt.models.language_models.tiny_gemma3 import meteo_corpus, write_tiny_gemma3
from vtt.registry import DATASETS, MODELS
from vtt.utils.errors import ConfigError

LORA_TARGET = r'.*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)'


@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('tiny_mm') / 'gemma3')
    return write_tiny_gemma3(path, meteo_corpus(), image_size=32, patch_size=8, image_tokens=4)


@pytest.fixture(scope='module')
def batch(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('charts') / 'charts')
    dataset = DATASETS.build(dict(
        type='MeteoProductDataset', train=True, seed=0,
        charts=dict(type='SyntheticMeteoChartDataset', data_root=root, split='all',
                    generator=dict(seed=0, num_meteo=12, num_negative=0, size=(64, 64)))))
    return product_collate([dataset[i] for i in (0, 4)])


def build(tiny_dir, seed=0, model=None, **lm):
    torch.manual_seed(seed)
    cfg = dict(type='HFCausalLM', pretrained=tiny_dir, model_class='Gemma3ForConditionalGeneration',
               quantization='nf4', skip_modules=['model.vision_tower', 'lm_head'],
               lora=dict(r=4, alpha=8, dropout=0.0, target_modules=LORA_TARGET))
    cfg.update(lm)
    return MODELS.build(dict(type='ChartProductClassifier', lm=cfg, **(model or {})))


def test_writer_refuses_to_overwrite_and_checks_shapes(tiny_dir, tmp_path):
    with pytest.raises(FileExistsError):
        write_tiny_gemma3(tiny_dir, ['x'])
    with pytest.raises(ConfigError, match='image_tokens'):
        write_tiny_gemma3(str(tmp_path / 'bad'), ['x'], image_size=32, patch_size=8,
                          image_tokens=3)


def test_real_loading_path_keeps_vision_and_lm_head_and_adapts_the_language_model(tiny_dir):
    import bitsandbytes as bnb
    model = build(tiny_dir)
    assert model.multimodal
    quantised = [n for n, m in model.lm.model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quantised and all('language_model' in n for n in quantised)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n and 'language_model' in n for n in trainable)


def test_prompt_is_gemma_chat_format_with_the_image_elements_and_candidates(tiny_dir):
    model = build(tiny_dir)
    text = model.processor.apply_chat_template(
        model.messages(['wind field'], ['甲', '乙']), add_generation_prompt=True, tokenize=False)
    assert text.startswith('<bos><start_of_turn>user\nYou are a weather chart expert.\n\n'
                           '<start_of_image>Detected elements: wind field.\n'
                           'Candidate products: 甲; 乙.\n')
    assert text.endswith('<end_of_turn>\n<start_of_turn>model\n')
    image = torch.rand(3, 48, 64)
    inputs = model.encode_prompt_inputs(image, ['wind field'], ['甲'])
    ids = inputs['input_ids'][0].tolist()
    tokenizer = model.tokenizer
    assert ids.count(tokenizer.convert_tokens_to_ids('<image_soft_token>')) == 4
    assert ids.count(tokenizer.bos_token_id) == 1 and tokenizer.unk_token_id not in ids
    assert inputs['pixel_values'].shape == (1, 3, 32, 32)


def test_loss_is_on_the_answer_only_and_trains_lora(tiny_dir, batch):
    model = build(tiny_dir).train()
    captured = {}
    forward = model.lm.forward

    def spy(**kwargs):
        captured.update(kwargs)
        return forward(**kwargs)

    model.lm.forward = spy
    out = model(**model.data_preprocessor(batch, True), mode='loss')
    labels, ids = captured['labels'], captured['input_ids']
    for i, name in enumerate(batch['data_samples']['answer_name']):
        answer = model.answer_ids(name)
        kept = labels[i][labels[i] != -100].tolist()
        assert kept == answer  # the answer and <end_of_turn>, nothing of the prompt
        end = int(captured['attention_mask'][i].sum())
        assert ids[i, end - len(answer):end].tolist() == answer
    out['loss'].backward()
    grads = [p.grad for n, p in model.named_parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_cached_candidate_scores_equal_full_passes(tiny_dir):
    model = build(tiny_dir).eval()
    image = torch.rand(3, 48, 64)
    names = ['地面气压场', '地面分析图', '24小时最大风速']
    cached = model.score_candidates(image, ['pressure field'], names)['scores']
    prompt = model.encode_prompt_inputs(image, ['pressure field'], names)
    for k, name in enumerate(names):
        answer = torch.tensor(model.answer_ids(name))
        ids = torch.cat([prompt['input_ids'][0], answer])[None]
        types = torch.cat([prompt['token_type_ids'][0], torch.zeros_like(answer)])[None]
        with torch.no_grad():
            logits = model.lm(input_ids=ids, attention_mask=torch.ones_like(ids),
                              pixel_values=prompt['pixel_values'], token_type_ids=types).logits
        p = prompt['input_ids'].shape[1]
        log_probs = logits[0, p - 1:-1].float().log_softmax(-1)
        full = log_probs.gather(-1, answer[:, None]).sum()
        assert abs(float(full) - float(cached[k])) < 1e-4


def test_predictions_temperature_and_no_candidate(tiny_dir, batch):
    model = build(tiny_dir).eval()
    samples = dict(batch['data_samples'])
    samples['candidates'] = [samples['candidates'][0], []]
    samples['candidate_names'] = [samples['candidate_names'][0], []]
    samples['candidate_labels'] = [samples['candidate_labels'][0], []]
    model.temperature.fill_(2.0)
    first, empty = model(**model.data_preprocessor(dict(batch, data_samples=samples)),
                         mode='predict')
    assert torch.allclose(first['pred_probs'], (first['pred_scores'] / 2).softmax(-1))
    best = int(first['pred_scores'].argmax())
    assert first['pred_label'] == first['candidate_labels'][best]
    assert first['tokens'] > 0 and first['latency_s'] > 0
    assert empty['pred_label'] == -1 and empty['pred_product'] is None


def test_checkpoint_holds_adapters_and_temperature_and_reloads_identically(tiny_dir, batch,
                                                                           tmp_path):
    model = build(tiny_dir, seed=0).train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(2):
        optim.zero_grad()
        model(**model.data_preprocessor(batch, True), mode='loss')['loss'].backward()
        optim.step()
    model.temperature.fill_(0.5)
    state = model.state_dict()
    assert 'temperature' in state
    assert all('lora_' in k for k in state if k not in ('temperature', 'lm._extra_state'))
    torch.save(state, tmp_path / 'product.pth')

    model.eval()
    before = model(**model.data_preprocessor(batch), mode='predict')
    fresh = build(tiny_dir, seed=5).eval()
    fresh.load_state_dict(torch.load(tmp_path / 'product.pth', weights_only=False))
    after = fresh(**fresh.data_preprocessor(batch), mode='predict')
    for a, b in zip(before, after):
        assert torch.allclose(a['pred_scores'], b['pred_scores'], atol=1e-5)
        assert torch.allclose(a['pred_probs'], b['pred_probs'], atol=1e-5)


def test_the_image_reaches_the_language_model(tiny_dir):
    # transformers starts the projector at zero; the writer must not leave it there
    model = build(tiny_dir).eval()
    names = ['地面气压场', '地面分析图']
    a = model.score_candidates(torch.zeros(3, 48, 64), ['wind field'], names)['scores']
    b = model.score_candidates(torch.ones(3, 48, 64), ['wind field'], names)['scores']
    assert (a - b).abs().max() > 1e-3


def test_trie_generation_picks_a_candidate_and_with_full_beams_the_best(tiny_dir, batch):
    model = build(tiny_dir).eval()
    names = ['地面气压场', '地面分析图', '24小时最大风速', '24小时降水量', '2米气温']
    rows = [model.answer_ids(n) for n in names]
    for seed in range(3):
        torch.manual_seed(seed)
        prompt = model.encode_prompt_inputs(torch.rand(3, 48, 64), ['pressure field'], names)
        ids = prompt.pop('input_ids')
        exact = model.lm.candidate_log_likelihoods(model.lm.encode_prompt(ids, **prompt), rows)
        assert model.lm.generate_constrained(ids, rows, num_beams=len(rows),
                                             **prompt) == int(exact.argmax())
        assert 0 <= model.lm.generate_constrained(ids, rows, **prompt) < len(rows)
    with pytest.raises(ValueError, match='stop token'):
        model.lm.generate_constrained(ids, [rows[0][:-1], rows[1]], **prompt)
    trie = build(tiny_dir, model=dict(decode='trie', trie_beams=20)).eval()
    scored = model(**model.data_preprocessor(batch), mode='predict')
    generated = trie(**trie.data_preprocessor(batch), mode='predict')
    for s, g in zip(scored, generated):
        assert g['pred_label'] == s['pred_label']
        k = int(g['pred_scores'].argmax())
        assert torch.isclose(g['pred_scores'][k], s['pred_scores'][k], atol=1e-4)
        assert torch.isinf(g['pred_scores']).sum() == len(g['pred_scores']) - 1


# --- a text-only LM with LLaVA-style visual tokens (the Gemma 3 270M path) ----------------------


@pytest.fixture(scope='module')
def tiny_text_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('tiny_text') / 'gemma3')
    return write_tiny_gemma3(path, meteo_corpus(), text_only=True)


def build_visual(tiny_text_dir, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='ChartProductClassifier',
        lm=dict(type='HFCausalLM', pretrained=tiny_text_dir, quantization='nf4',
                lora=dict(r=4, alpha=8, dropout=0.0)),
        # a tiny random timm ResNet (a random MobileNetV2 in eval mode outputs almost zeros)
        visual=dict(encoder=dict(type='TimmEncoder', model_name='test_resnet',
                                 out_type='feature_map'), tokens=4)))


def test_visual_tokens_are_spliced_where_the_image_is(tiny_text_dir):
    model = build_visual(tiny_text_dir).eval()
    image = torch.rand(3, 48, 64)
    prompt = model.encode_prompt_inputs(image, ['wind field'], ['甲', '乙'])
    ids, embeds = prompt['input_ids'][0], prompt['inputs_embeds'][0]
    pad = model.tokenizer.pad_token_id
    slots = (ids == pad).nonzero().flatten()
    assert len(slots) == 4 and (slots.diff() == 1).all()  # one block of 4 placeholders
    visual = model.visual_tokens(image[None])[0]
    assert torch.allclose(embeds[slots], visual, atol=1e-6)
    text = model.lm.model.get_input_embeddings()(ids[None])[0]
    others = torch.ones(len(ids), dtype=torch.bool)
    others[slots] = False
    assert torch.allclose(embeds[others], text[others])
    a = model.score_candidates(image, ['wind field'], ['甲', '乙'])['scores']
    b = model.score_candidates(torch.rand(3, 48, 64), ['wind field'], ['甲', '乙'])['scores']
    assert (a - b).abs().max() > 1e-4  # the image reaches the LM


def test_visual_path_trains_the_projector_scores_exactly_and_reloads(tiny_text_dir, batch,
                                                                     tmp_path):
    model = build_visual(tiny_text_dir).train()
    out = model(**model.data_preprocessor(batch, True), mode='loss')
    out['loss'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.visual_projector.parameters())
    assert all(not p.requires_grad for p in model.visual_encoder.parameters())
    model.eval()
    image, names = torch.rand(3, 48, 64), ['地面气压场', '地面分析图', '2米气温']
    cached = model.score_candidates(image, ['pressure field'], names)['scores']
    prompt = model.encode_prompt_inputs(image, ['pressure field'], names)
    embed = model.lm.model.get_input_embeddings()
    for k, name in enumerate(names):
        answer = torch.tensor(model.answer_ids(name))
        embeds = torch.cat([prompt['inputs_embeds'], embed(answer[None])], dim=1)
        with torch.no_grad():
            logits = model.lm(inputs_embeds=embeds).logits[0]
        p = prompt['inputs_embeds'].shape[1]
        full = logits[p - 1:-1].float().log_softmax(-1).gather(-1, answer[:, None]).sum()
        assert abs(float(full) - float(cached[k])) < 1e-4
    trie = model.generate_candidate(image, ['pressure field'], names)['scores']
    assert torch.isfinite(trie).sum() == 1
    state = model.state_dict()
    assert any(k.startswith('visual_projector.') for k in state)
    lm_keys = [k for k in state if k.startswith('lm.') and k != 'lm._extra_state']
    assert lm_keys and all('lora_' in k for k in lm_keys)  # no base weight of the LM
    torch.save(state, tmp_path / 'visual.pth')
    fresh = build_visual(tiny_text_dir, seed=3).eval()
    fresh.load_state_dict(torch.load(tmp_path / 'visual.pth', weights_only=False))
    assert torch.allclose(fresh.score_candidates(image, ['pressure field'], names)['scores'],
                          cached, atol=1e-5)


def test_visual_encoder_fine_tunes_when_its_config_says_so(tiny_text_dir, batch, tmp_path):
    def build_trainable(seed):
        torch.manual_seed(seed)
        return MODELS.build(dict(
            type='ChartProductClassifier',
            lm=dict(type='HFCausalLM', pretrained=tiny_text_dir, quantization='nf4',
                    lora=dict(r=4, alpha=8, dropout=0.0)),
            visual=dict(encoder=dict(type='MobileNetV2Encoder', pretrained=None, frozen=False,
                                     width_mult=0.25, out_type='feature_map', image_size=64),
                        tokens=4)))

    model = build_trainable(0).train()
    encoder = model.visual_encoder
    assert not encoder.training  # BatchNorm statistics stay as they are
    stats = {k: v.clone() for k, v in encoder.state_dict().items() if 'running' in k}
    out = model(**model.data_preprocessor(batch, True), mode='loss')
    out['loss'].backward()
    grads = [p.grad for p in encoder.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(torch.equal(v, encoder.state_dict()[k]) for k, v in stats.items())
    # the fine-tuned encoder's weights are saved with the adapters and reload exactly
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(0.01 * torch.randn_like(p))
    model.eval()
    image, names = torch.rand(3, 48, 64), ['地面气压场', '地面分析图']
    scores = model.score_candidates(image, ['pressure field'], names)['scores']
    state = model.state_dict()
    assert any(k.startswith('visual_encoder.backbone.') for k in state)
    torch.save(state, tmp_path / 'trained_encoder.pth')
    fresh = build_trainable(3).eval()
    fresh.load_state_dict(torch.load(tmp_path / 'trained_encoder.pth', weights_only=False))
    assert torch.allclose(fresh.score_candidates(image, ['pressure field'], names)['scores'],
                          scores, atol=1e-5)


def test_visual_needs_a_text_only_lm_and_a_square_grid(tiny_dir, tiny_text_dir):
    encoder = dict(type='MobileNetV2Encoder', pretrained=None, width_mult=0.25,
                   out_type='feature_map', image_size=64)
    with pytest.raises(ConfigError, match='text-only'):
        build(tiny_dir, model=dict(visual=dict(encoder=encoder)))
    with pytest.raises(ConfigError, match='square'):
        MODELS.build(dict(type='ChartProductClassifier',
                          lm=dict(type='HFCausalLM', pretrained=tiny_text_dir),
                          visual=dict(encoder=encoder, tokens=3)))


def build_views(tiny_text_dir, views, encoder=None, seed=0):
    torch.manual_seed(seed)
    encoder = encoder or dict(type='TimmEncoder', model_name='test_resnet',
                              out_type='feature_map')
    return MODELS.build(dict(
        type='ChartProductClassifier',
        lm=dict(type='HFCausalLM', pretrained=tiny_text_dir, quantization='nf4',
                lora=dict(r=4, alpha=8, dropout=0.0)),
        visual=dict(encoder=encoder, views=views)))


def test_views_encode_each_crop_at_its_size_and_pool_to_its_grid(tiny_text_dir):
    import torch.nn.functional as F
    views = [dict(box=(0, 0, 1, 1), size=(32, 32), grid=(2, 2)),
             dict(box=(0, 0, 1, 0.25), size=(16, 64), grid=(1, 3))]
    model = build_views(tiny_text_dir, views).eval()
    assert model.num_visual_tokens == 7
    images = torch.rand(2, 3, 48, 64)
    feats = model.visual_features(images)
    assert feats.shape[:2] == (2, 7)
    # by hand: the top quarter (12 of 48 rows), resized to 16 x 64, encoded, pooled to 1 x 3
    strip = F.interpolate(images[:, :, :12], size=(16, 64), mode='bilinear', antialias=True,
                          align_corners=False)
    with torch.no_grad():
        expected = F.adaptive_avg_pool2d(model.visual_encoder(strip), (1, 3))
    assert torch.allclose(feats[:, 4:], expected.flatten(2).transpose(1, 2), atol=1e-6)
    # the strip's tokens see the title rows only: changing the bottom leaves them alone
    changed = images.clone()
    changed[:, :, 24:] = torch.rand_like(changed[:, :, 24:])
    other = model.visual_features(changed)
    assert torch.allclose(other[:, 4:], feats[:, 4:], atol=1e-6)
    assert not torch.allclose(other[:, :4], feats[:, :4], atol=1e-4)
    # the prompt holds one placeholder per token of every view
    prompt = model.encode_prompt_inputs(images[0], ['wind field'], ['甲', '乙'])
    assert int((prompt['input_ids'][0] == model.tokenizer.pad_token_id).sum()) == 7


def test_a_batch_encodes_its_images_at_once_with_the_same_loss(tiny_text_dir, batch):
    views = [dict(size=(32, 32), grid=(1, 1)), dict(box=(0, 0, 1, 0.5), size=(16, 32))]
    model = build_views(tiny_text_dir, views).train()
    calls = []
    model.visual_encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    data = model.data_preprocessor(batch, True)
    loss = model(**data, mode='loss')['loss']
    assert calls == [2, 2]  # one pass per view for both images of the batch
    # the same as each image on its own (the encoder's BatchNorm is in eval mode)
    single = torch.cat([model.visual_tokens(data['inputs'][i:i + 1]) for i in range(2)])
    assert torch.allclose(model.visual_tokens(data['inputs']), single, atol=1e-5)
    assert torch.isfinite(loss)


def test_views_are_checked(tiny_text_dir):
    encoder = dict(type='MobileNetV2Encoder', pretrained=None, width_mult=0.25,
                   out_type='feature_map', image_size=64)
    with pytest.raises(ConfigError, match='image_size=None'):
        build_views(tiny_text_dir, [dict(size=(32, 32))], encoder=encoder)
    with pytest.raises(ConfigError, match=r'views\[0\]\.box'):
        build_views(tiny_text_dir, [dict(box=(0, 0.5, 1, 0.2))])
    with pytest.raises(ConfigError, match=r'views\[1\]: unknown keys'):
        build_views(tiny_text_dir, [dict(), dict(tokens=4)])
    with pytest.raises(ConfigError, match='not both'):
        MODELS.build(dict(type='ChartProductClassifier',
                          lm=dict(type='HFCausalLM', pretrained=tiny_text_dir),
                          visual=dict(encoder=encoder, tokens=4, views=[dict()])))


@pytest.fixture(scope='module')
def product_dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('warmup_charts') / 'charts')
    return DATASETS.build(dict(
        type='MeteoProductDataset', train=True, seed=0,
        charts=dict(type='SyntheticMeteoChartDataset', data_root=root, split='all',
                    generator=dict(seed=0, num_meteo=12, num_negative=0, size=(64, 64)))))


def test_warm_up_trains_the_views_own_encoder_with_batch_statistics_then_freezes_it(
        tiny_text_dir, product_dataset, tmp_path):
    small = dict(type='MobileNetV2Encoder', pretrained=None, width_mult=0.25,
                 out_type='feature_map', image_size=None)
    views = [dict(size=(32, 32), grid=(1, 1)),
             dict(box=(0, 0, 1, 0.25), size=(16, 64), grid=(1, 2),
                  encoder=dict(small, frozen=False))]
    model = build_views(tiny_text_dir, views, encoder=dict(small, frozen=True)).train()
    shared, strip = model.visual_encoder, model.visual_view_encoders['1']
    assert model.visual_encoders() == [shared, strip] and model.visual_encoder_trains
    before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith('visual_')}
    calls = []
    handle = shared.register_forward_hook(lambda *args: calls.append(1))
    history = model.warm_up_visual(product_dataset, epochs=8, lr=1e-3, head_lr=1e-2,
                                   batch_size=4, freeze_after=True, progress=False)
    handle.remove()
    assert not calls  # the frozen view is neither encoded nor seen by the warm-up's head
    assert [row['epoch'] for row in history] == list(range(1, 9))
    assert history[-1]['loss'] < history[0]['loss']
    after = model.state_dict()
    changed = {k for k, v in before.items() if not torch.equal(v, after[k])}
    # the strip's encoder learnt, BatchNorm statistics included; the frozen shared one did not
    assert any(k.startswith('visual_view_encoders.1.') and 'weight' in k for k in changed)
    assert any(k.startswith('visual_view_encoders.1.') and 'running_mean' in k for k in changed)
    assert not any(k.startswith('visual_encoder.') for k in changed)
    assert not any(k.startswith('visual_projector.') for k in changed)  # only the LM trains it
    # back in eval mode and frozen: the LM's training keeps it; its weights are still saved
    assert not strip.training and not model.visual_encoder_trains
    model.train()
    out = model(**model.data_preprocessor(product_collate([product_dataset[i] for i in (0, 1)]),
                                           True), mode='loss')
    out['loss'].backward()
    assert all(p.grad is None for p in strip.parameters())
    assert any(p.grad is not None for p in model.visual_projector.parameters())
    assert any(k.startswith('visual_view_encoders.1.backbone.') for k in model.state_dict())


def test_warm_up_needs_a_trainable_encoder(tiny_text_dir, product_dataset):
    model = build_visual(tiny_text_dir)
    with pytest.raises(ConfigError, match='frozen'):
        model.warm_up_visual(product_dataset, epochs=1, lr=1e-3, progress=False)


def build_product_head(tiny_text_dir, num_products=12, head_views=(1, ), seed=0):
    small = dict(type='MobileNetV2Encoder', pretrained=None, width_mult=0.25,
                 out_type='feature_map', image_size=None)
    torch.manual_seed(seed)
    return MODELS.build(dict(
        type='ChartProductClassifier',
        lm=dict(type='HFCausalLM', pretrained=tiny_text_dir, quantization='nf4',
                lora=dict(r=4, alpha=8, dropout=0.0)),
        visual=dict(encoder=dict(small, frozen=True),
                    views=[dict(size=(32, 32), grid=(1, 1)),
                           dict(box=(0, 0, 1, 0.25), size=(16, 64), grid=(1, 2),
                                encoder=dict(small, frozen=False))],
                    product_head=dict(num_products=num_products, views=list(head_views)))))


def test_product_token_is_the_heads_belief_from_its_views_only(tiny_text_dir):
    model = build_product_head(tiny_text_dir).eval()
    assert model.num_visual_tokens == 1 + 2 + 1
    images = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        tokens = model.visual_tokens(images)
        feats = model.visual_features(images)
        probs = model.visual_product_head(feats[:, 1:3].flatten(1)).softmax(-1)  # the strip's
        assert tokens.shape == (2, 4, model.lm.config.hidden_size)
        assert torch.allclose(tokens[:, :3], model.visual_projector(feats), atol=1e-6)
        assert torch.allclose(tokens[:, 3], model.visual_product_embed(probs), atol=1e-6)
        # the head reads the title strip only: the chart below it does not move the token
        changed = images.clone()
        changed[:, :, 24:] = torch.rand_like(changed[:, :, 24:])
        assert torch.allclose(model.visual_tokens(changed)[:, 3], tokens[:, 3], atol=1e-6)
    prompt = model.encode_prompt_inputs(images[0], ['wind field'], ['甲', '乙'])
    assert int((prompt['input_ids'][0] == model.tokenizer.pad_token_id).sum()) == 4
    assert torch.allclose(model.product_head_probs(images), probs, atol=1e-6)
    # predictions also say what the head alone would choose among the candidates
    samples = dict(candidates=[['a', 'b', 'c']], candidate_labels=[[4, 7, 9]], label=[7],
                   element_names=[['wind field']], candidate_names=[['甲', '乙', '丙']])
    record = model.predict(images[:1], samples)[0]
    assert record['visual_head_label'] == [4, 7, 9][int(probs[0, [4, 7, 9]].argmax())]


def test_warm_up_trains_the_product_head_starts_its_token_at_the_names_then_freezes_it(
        tiny_text_dir, product_dataset):
    from vtt.datasets.meteo_products import product_names
    model = build_product_head(tiny_text_dir).train()
    head = model.visual_product_head
    before = head.weight.detach().clone()
    strip = model.visual_view_encoders['1']
    modes = []
    strip.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    seen = []
    history = model.warm_up_visual(product_dataset, epochs=4, lr=1e-3, head_lr=1e-2,
                                   batch_size=4, freeze_after=True, head_epochs=20,
                                   progress=False, on_epoch=seen.append)
    assert [row['stage'] for row in history] == ['encoder'] * 4 + ['head'] * 20
    assert seen == history  # every epoch reported to the caller as it ends
    assert not torch.equal(head.weight, before)  # the model's own head learnt
    # the head-only epochs: the 12 images encoded once (3 batches), in eval mode (running
    # statistics, as the LM will see them), then the head alone, its loss falling
    assert modes == [True] * 4 * 3 + [False] * 3
    assert history[-1]['loss'] < history[4]['loss']
    # a sure belief in product k is the mean embedding of k's name as the prompt writes it
    names = product_names(product_dataset.vocab.products, product_dataset.vocab,
                          product_dataset.product_field)
    embed = model.lm.model.get_input_embeddings()
    for k in (0, 5):
        ids = torch.tensor(model.tokenizer(names[k], add_special_tokens=False).input_ids)
        assert torch.allclose(model.visual_product_embed.weight[:, k],
                              embed(ids[None])[0].mean(0), atol=1e-5)
    # frozen with the strip's encoder; the LM's loss trains the token's map, not the head
    assert not any(p.requires_grad for p in head.parameters())
    model.train()
    out = model(**model.data_preprocessor(product_collate([product_dataset[i] for i in (0, 1)]),
                                           True), mode='loss')
    out['loss'].backward()
    assert all(p.grad is None for p in head.parameters())
    assert model.visual_product_embed.weight.grad is not None
    assert {'visual_product_head.weight', 'visual_product_embed.weight'} <= \
        set(model.state_dict())


def test_product_head_is_checked(tiny_text_dir, product_dataset):
    with pytest.raises(ConfigError, match='num_products'):
        build_product_head(tiny_text_dir, num_products=1)
    with pytest.raises(ConfigError, match=r'product_head\.views'):
        build_product_head(tiny_text_dir, head_views=(2, ))
    model = build_product_head(tiny_text_dir, num_products=5)
    with pytest.raises(ConfigError, match='has 12 products'):
        model.warm_up_visual(product_dataset, epochs=1, lr=1e-3, progress=False)
    # the strip's encoder trains, but the head would not read it
    model = build_product_head(tiny_text_dir, head_views=(0, ))
    with pytest.raises(ConfigError, match=r'views \[1\] train'):
        model.warm_up_visual(product_dataset, epochs=1, lr=1e-3, progress=False)
