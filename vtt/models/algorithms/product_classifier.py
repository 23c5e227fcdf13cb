"""Stage 3 of the chart cascade: the product of a weather chart, chosen by a (QLoRA) Gemma 3
among candidate products, from the image and the detected elements.

::

    image [3, H, W] + element names + candidate names
        --chat template (system: weather chart expert; user: image, elements, candidates,
          instruction)--> prompt ids [P] (+ pixel values, image token types)
    training:  prompt + "<answer name><end_of_turn>" -> LM loss on the answer tokens only
    predict:   prompt encoded ONCE -> its key/value cache continued by every candidate's
               "<name><end_of_turn>" -> summed log-likelihoods [K] -> softmax(scores / T)
               -> exact ranking and a probability per candidate

A text-only LM (Gemma 3 270M) can see the image too, LLaVA-style: a frozen image encoder's
feature map is pooled into a few tokens, a trained MLP projects them into the LM's embedding
space, and they are spliced into the prompt where the image would be (``visual=dict(...)``).

Scoring ends every candidate with ``<end_of_turn>`` so that a name that is a prefix of another
(``Surface pressure`` / ``Surface pressure and wind``) is not favoured: the answer must stop.
``T`` (the ``temperature`` buffer, 1 until fitted) is set by :class:`TemperatureScalingHook`
on the validation predictions and saved in the checkpoint with the adapters.
"""
import time
from typing import List, Optional, Sequence

import torch

from vtt.registry import MODELS
from vtt.utils.errors import ConfigError

from .base import BaseAlgorithm

__all__ = ['ChartProductClassifier', 'DEFAULT_SYSTEM_PROMPT', 'DEFAULT_INSTRUCTION']

#: Where the visual tokens of a text-only LM go in the rendered prompt (split out before
#: tokenising, so it never reaches the tokenizer).
IMAGE_MARKER = '\x00image\x00'

DEFAULT_SYSTEM_PROMPT = 'You are a weather chart expert.'
DEFAULT_INSTRUCTION = ('Choose the product that best matches the chart. Answer with the '
                       'product name only.')


@MODELS.register_module()
class ChartProductClassifier(BaseAlgorithm):
    """Choose a chart's product among candidates with a causal LM (Gemma 3, QLoRA).

    Args:
        lm (dict): An :class:`~vtt.models.language_models.HFCausalLM` config, e.g. Gemma 3 4B
            (``model_class='Gemma3ForConditionalGeneration'``, 4-bit NF4, LoRA). A multimodal
            model sees the image through its processor (``AutoProcessor`` of the same
            directory); a text-only one sees the elements and candidates only.
        system_prompt (str): The system message.
        instruction (str): The last line of the user message.
        end_of_answer (str): Appended to the answer (training) and to every candidate
            (scoring). Defaults to Gemma's ``'<end_of_turn>'``.
        max_candidates_per_pass (int, optional): Candidates scored per forward pass (bounds
            memory for long candidate lists). Defaults to all at once.
        decode (str): ``'score'`` (default): every candidate's log-likelihood, so an exact
            ranking and a probability each. ``'trie'``: the candidate the model generates
            when decoding may only follow the candidates' token trie
            (:meth:`HFCausalLM.generate_constrained`, ``trie_beams`` wide), for candidate sets
            too large to score; only the chosen candidate then has a score (its exact
            log-likelihood) and probability 1, so top-k beyond 1 and calibration are not
            meaningful in this mode.
        trie_beams (int): Beam width of ``'trie'`` decoding; at least the number of candidates
            makes it exact. Defaults to 1 (greedy).
        visual (dict, optional): For a TEXT-ONLY LM: ``encoder`` (an image encoder config with
            ``out_type='feature_map'``, e.g. the ImageNet ``MobileNetV2Encoder``; frozen),
            ``tokens`` (a square number of visual tokens, the feature map average-pooled to a
            ``sqrt x sqrt`` grid; default 4) and ``hidden`` (the projector's hidden width;
            default the LM's). The projector (Linear -> GELU -> Linear into the LM's embedding
            width) trains with the adapters and is saved with them. The encoder is frozen
            unless its own config says ``frozen=False``: then it fine-tunes too (BatchNorm
            statistics kept) and its weights are saved with the adapters.
        data_preprocessor (dict, optional): Defaults to ``BaseDataPreprocessor``.

    Batches come from :class:`~vtt.datasets.MeteoProductDataset` with ``product_collate``:
    ``inputs float32 [B, 3, H, W] in [0, 1]`` and per-sample lists ``element_names``,
    ``candidates``, ``candidate_names``, ``candidate_labels``, ``answer_name``, ``label``.

    Predictions (one dict per image): ``pred_label`` (vocabulary index of the best candidate,
    -1 when there is no candidate), ``pred_product``, ``candidates``, ``candidate_labels``,
    ``pred_scores`` (``float32 [K]`` summed log-likelihoods), ``pred_probs`` (``softmax(scores
    / T)``), ``gt_label``, ``elements``, ``latency_s`` and ``tokens`` (prompt + candidate
    tokens processed).
    """

    default_data_preprocessor = dict(type='BaseDataPreprocessor')

    def __init__(self, lm: dict, system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                 instruction: str = DEFAULT_INSTRUCTION, end_of_answer: str = '<end_of_turn>',
                 max_candidates_per_pass: Optional[int] = None, decode: str = 'score',
                 trie_beams: int = 1, visual: Optional[dict] = None, autocast_bf16: bool = True,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.lm = MODELS.build(lm)
        self.system_prompt, self.instruction = system_prompt, instruction
        self.end_of_answer = end_of_answer
        self.max_candidates_per_pass = max_candidates_per_pass
        if decode not in ('score', 'trie'):
            raise ConfigError(f"decode must be 'score' or 'trie', got {decode!r}")
        self.decode, self.trie_beams = decode, trie_beams
        self.autocast_bf16 = autocast_bf16
        self.multimodal = getattr(self.lm.config, 'vision_config', None) is not None
        self.register_buffer('temperature', torch.ones(()))
        self._processor = None
        self.visual_encoder = self.visual_projector = None
        self.visual_encoder_trains = False
        if visual is not None:
            self._build_visual(dict(visual))

    def _build_visual(self, visual: dict) -> None:
        if self.multimodal:
            raise ConfigError('visual=... is for text-only LMs; this LM has its own vision '
                              'tower (leave visual=None)')
        if 'encoder' not in visual:
            raise ConfigError("visual needs an 'encoder', e.g. dict(type='MobileNetV2Encoder', "
                              "pretrained='imagenet', out_type='feature_map')")
        tokens = int(visual.get('tokens', 4))
        grid = int(round(tokens**0.5))
        if grid * grid != tokens:
            raise ConfigError(f'visual.tokens must be a square number (a pooled grid), got '
                              f'{tokens}')
        self.visual_encoder = MODELS.build(visual['encoder'])
        if getattr(self.visual_encoder, 'out_type', 'feature_map') != 'feature_map':
            raise ConfigError("visual.encoder must return a feature map (out_type='feature_map')")
        # Frozen unless its config says frozen=False: then it fine-tunes with the adapters (and
        # its weights go into checkpoints). Either way it stays in eval mode: batches of a few
        # charts would make BatchNorm statistics noise.
        self.visual_encoder_trains = getattr(self.visual_encoder, 'frozen', True) is False
        if not self.visual_encoder_trains:
            self.visual_encoder.requires_grad_(False)
        self.visual_encoder.eval()
        width = self.lm.config.get_text_config().hidden_size
        hidden = int(visual.get('hidden') or width)
        self.visual_grid = grid
        self.visual_projector = torch.nn.Sequential(
            torch.nn.Linear(self.visual_encoder.output_dim, hidden), torch.nn.GELU(),
            torch.nn.Linear(hidden, width))

    def train(self, mode: bool = True):
        super().train(mode)
        if self.visual_encoder is not None:
            self.visual_encoder.eval()  # BatchNorm keeps its statistics, frozen or not
        return self

    def init_weights(self) -> None:
        # Everything trainable lives in the pretrained LM (adapters initialised by peft);
        # mmengine's default bookkeeping would also take the mean of the 4-bit (uint8) weights.
        self.lm.init_weights()
        self._is_init = True  # (the projector keeps PyTorch's default Linear initialisation)

    # ------------------------------------------------------------------ text
    @property
    def processor(self):
        """The multimodal processor (images + text), or the tokenizer of a text-only LM."""
        if self._processor is None:
            if self.multimodal:
                from transformers import AutoProcessor
                self._processor = AutoProcessor.from_pretrained(self.lm.location)
            else:
                self._processor = self.lm.tokenizer
            tokenizer = getattr(self._processor, 'tokenizer', self._processor)
            if getattr(tokenizer, 'chat_template', None) is None:
                from vtt.models.language_models.tiny_gemma3 import GEMMA3_CHAT_TEMPLATE
                tokenizer.chat_template = GEMMA3_CHAT_TEMPLATE  # e.g. a GGUF-converted model
                if self._processor is not tokenizer:
                    self._processor.chat_template = GEMMA3_CHAT_TEMPLATE
        return self._processor

    @property
    def tokenizer(self):
        return getattr(self.processor, 'tokenizer', self.processor)

    def user_text(self, element_names: Sequence[str], candidate_names: Sequence[str]) -> str:
        elements = ', '.join(element_names) if element_names else 'none detected'
        candidates = '; '.join(candidate_names)
        return (f'Detected elements: {elements}.\nCandidate products: {candidates}.\n'
                f'{self.instruction}')

    def messages(self, element_names, candidate_names) -> List[dict]:
        content = [dict(type='text', text=self.user_text(element_names, candidate_names))]
        if self.multimodal:
            content.insert(0, dict(type='image'))
        elif self.visual_encoder is not None:
            content.insert(0, dict(type='text', text=IMAGE_MARKER))
        return [dict(role='system', content=[dict(type='text', text=self.system_prompt)]),
                dict(role='user', content=content)]

    def encode_prompt_inputs(self, image: Optional[torch.Tensor], element_names,
                             candidate_names) -> dict:
        """The LM inputs of one example's prompt, ending where the answer starts: ``input_ids
        [1, P]``, plus ``pixel_values`` and ``token_type_ids`` for a multimodal LM, or
        ``inputs_embeds [1, P, H]`` with the projected visual tokens spliced in (``visual``;
        their ``input_ids`` are pad placeholders)."""
        text = self.processor.apply_chat_template(self.messages(element_names, candidate_names),
                                                  add_generation_prompt=True, tokenize=False)
        if self.multimodal:
            # images come in [0, 1]: no second rescale
            enc = self.processor(images=[image.float().cpu()], text=[text], do_rescale=False,
                                 add_special_tokens=False, return_tensors='pt')
            return {k: v for k, v in enc.items() if k != 'attention_mask'}
        if self.visual_encoder is None:
            return dict(input_ids=self.tokenizer(text, add_special_tokens=False,
                                                 return_tensors='pt').input_ids)
        before, after = text.split(IMAGE_MARKER)
        tokenizer = self.tokenizer
        pieces = [torch.tensor(tokenizer(part, add_special_tokens=False).input_ids,
                               dtype=torch.long) for part in (before, after)]
        count = self.visual_grid**2
        ids = torch.cat([pieces[0], torch.full((count, ), tokenizer.pad_token_id or 0),
                         pieces[1]])[None].to(self.lm._device())
        embeds = self.lm.model.get_input_embeddings()(ids)
        visual = self.visual_tokens(image[None].to(self.lm._device()))  # [1, n, H]
        start = pieces[0].numel()
        embeds = torch.cat([embeds[:, :start], visual.to(embeds.dtype),
                            embeds[:, start + count:]], dim=1)
        return dict(input_ids=ids, inputs_embeds=embeds)

    def visual_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """``images [N, 3, H, W]`` in [0, 1] -> ``[N, tokens, H_lm]`` projected visual
        tokens (the encoder, frozen unless configured to fine-tune; an average-pooled grid; the
        trained projector)."""
        with torch.set_grad_enabled(self.visual_encoder_trains and torch.is_grad_enabled()):
            feats = self.visual_encoder(images)  # [N, C, h, w]
        grid = torch.nn.functional.adaptive_avg_pool2d(feats, self.visual_grid)
        return self.visual_projector(grid.flatten(2).transpose(1, 2))

    def answer_ids(self, name: str) -> List[int]:
        ids = self.tokenizer(name + self.end_of_answer, add_special_tokens=False).input_ids
        if not ids:
            raise ConfigError(f'the answer {name!r} tokenises to nothing')
        return ids

    # ------------------------------------------------------------------ training
    def loss(self, inputs: torch.Tensor, data_samples: dict) -> dict:
        """Next-token cross-entropy on the answer tokens (the prompt is masked with -100)."""
        device = self.lm._device()
        rows, labels, extras = [], [], []
        for i in range(len(data_samples['answer_name'])):
            prompt = self.encode_prompt_inputs(inputs[i], data_samples['element_names'][i],
                                               data_samples['candidate_names'][i])
            answer = torch.tensor(self.answer_ids(data_samples['answer_name'][i]))
            ids = prompt['input_ids'][0].cpu()
            rows.append(torch.cat([ids, answer]))
            labels.append(torch.cat([torch.full_like(ids, -100), answer]))
            extras.append(prompt)
        longest = max(r.numel() for r in rows)
        pad = self.tokenizer.pad_token_id or 0
        batch = dict(
            input_ids=torch.stack([torch.nn.functional.pad(r, (0, longest - r.numel()), value=pad)
                                   for r in rows]),
            attention_mask=torch.stack([torch.nn.functional.pad(torch.ones_like(r),
                                                                (0, longest - r.numel()))
                                        for r in rows]),
            labels=torch.stack([torch.nn.functional.pad(t, (0, longest - t.numel()), value=-100)
                                for t in labels]))
        if self.multimodal:
            batch['pixel_values'] = torch.cat([e['pixel_values'] for e in extras])
            batch['token_type_ids'] = torch.stack([
                torch.nn.functional.pad(e['token_type_ids'][0],
                                        (0, longest - e['token_type_ids'].shape[1]))
                for e in extras])
        batch = {k: v.to(device) for k, v in batch.items()}
        if self.visual_encoder is not None:
            # the prompt's embeddings (visual tokens spliced in), then the embeddings of the
            # answer and the padding that follow it in input_ids
            embed = self.lm.model.get_input_embeddings()
            batch['inputs_embeds'] = torch.stack([
                torch.cat([e['inputs_embeds'][0],
                           embed(batch['input_ids'][i, e['inputs_embeds'].shape[1]:])])
                for i, e in enumerate(extras)])
            del batch['input_ids']
        with self._autocast(device):
            out = self.lm(**batch)
        answer = batch['labels'][:, 1:] != -100
        hit = (out.logits[:, :-1].argmax(-1) == batch['labels'][:, 1:]) & answer
        return dict(loss=out.loss, answer_token_acc=hit.sum().float() / answer.sum().clamp(min=1))

    def _autocast(self, device: torch.device):
        """bf16 autocast on GPUs that support it; a no-op elsewhere (the 4-bit matmuls already
        compute in ``compute_dtype``)."""
        enabled = (self.autocast_bf16 and device.type == 'cuda'
                   and torch.cuda.is_bf16_supported())
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)

    # ------------------------------------------------------------------ inference
    def _prompt_for_lm(self, image, element_names, candidate_names):
        prompt = self.encode_prompt_inputs(image, element_names, candidate_names)
        ids = prompt.pop('input_ids').to(self.lm._device())
        return ids, {k: v.to(self.lm._device()) for k, v in prompt.items()}

    @torch.no_grad()
    def score_candidates(self, image: Optional[torch.Tensor], element_names: Sequence[str],
                         candidate_names: Sequence[str]) -> dict:
        """Summed log-likelihood of every candidate name (prompt encoded once, its cache
        shared); ``{'scores': float32 [K], 'tokens': int}``."""
        ids, extra = self._prompt_for_lm(image, element_names, candidate_names)
        state = self.lm.encode_prompt(None if 'inputs_embeds' in extra else ids, **extra)
        rows = [self.answer_ids(name) for name in candidate_names]
        scores = self.lm.candidate_log_likelihoods(state, rows,
                                                   batch_size=self.max_candidates_per_pass)
        return dict(scores=scores.float().cpu(),
                    tokens=int(ids.shape[1]) + sum(len(r) for r in rows))

    @torch.no_grad()
    def generate_candidate(self, image: Optional[torch.Tensor], element_names: Sequence[str],
                           candidate_names: Sequence[str]) -> dict:
        """Trie-constrained generation: ``{'scores': float32 [K] (-inf except the generated
        candidate's exact log-likelihood), 'tokens': int}``."""
        ids, extra = self._prompt_for_lm(image, element_names, candidate_names)
        prompt_ids = None if 'inputs_embeds' in extra else ids
        rows = [self.answer_ids(name) for name in candidate_names]
        index = self.lm.generate_constrained(prompt_ids, rows, num_beams=self.trie_beams,
                                             **extra)
        # one more prompt pass for the chosen candidate's exact (unconstrained) score: the
        # scores generate reports are renormalised over the trie's allowed tokens
        state = self.lm.encode_prompt(prompt_ids, **extra)
        scores = torch.full((len(rows), ), float('-inf'))
        scores[index] = self.lm.candidate_log_likelihoods(state, [rows[index]])[0].float().cpu()
        return dict(scores=scores, tokens=int(ids.shape[1]) + len(rows[index]))

    def predict(self, inputs: torch.Tensor, data_samples: dict) -> List[dict]:
        out = []
        temperature = float(self.temperature)
        for i in range(len(data_samples['candidates'])):
            start = time.perf_counter()
            candidates = list(data_samples['candidates'][i])
            record = dict(candidates=candidates,
                          candidate_labels=list(data_samples['candidate_labels'][i]),
                          elements=list(data_samples.get('elements', [[]] * len(inputs))[i]),
                          gt_label=int(data_samples['label'][i]),
                          index=int(data_samples['index'][i]) if 'index' in data_samples else i)
            if candidates:
                rank = self.score_candidates if self.decode == 'score' else \
                    self.generate_candidate
                scored = rank(inputs[i], data_samples['element_names'][i],
                              data_samples['candidate_names'][i])
                scores = scored['scores']
                best = int(scores.argmax())
                record.update(pred_scores=scores, pred_probs=(scores / temperature).softmax(-1),
                              pred_label=record['candidate_labels'][best],
                              pred_product=candidates[best], tokens=scored['tokens'])
            else:  # nothing passed the filter: no product can be chosen
                record.update(pred_scores=torch.zeros(0), pred_probs=torch.zeros(0),
                              pred_label=-1, pred_product=None, tokens=0)
            record['latency_s'] = time.perf_counter() - start
            out.append(record)
        return out
