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

A text-only LM (Gemma 3 270M) can see the image too, LLaVA-style: an image encoder's feature
map is pooled into a few tokens, a trained MLP projects them into the LM's embedding space, and
they are spliced into the prompt where the image would be (``visual=dict(...)``)::

    image -> views (whole chart; title strip, ...) -> crop + resize -> encoder (frozen, or
          its own, warmed up by warm_up_visual) -> [C, h, w] -> avg-pool to the view's grid
          -> tokens of all views [n, C] -> projector MLP -> [n, H_lm] -> spliced into the prompt
    optional product token (visual.product_head): the head views' tokens [m, C] -> linear
          product classifier (trained by warm_up_visual) -> softmax [num_products]
          -> linear map (product k's column starts as the mean embedding of k's name)
          -> one more token [1, H_lm]

Scoring ends every candidate with ``<end_of_turn>`` so that a name that is a prefix of another
(``Surface pressure`` / ``Surface pressure and wind``) is not favoured: the answer must stop.
``T`` (the ``temperature`` buffer, 1 until fitted) is set by :class:`TemperatureScalingHook`
on the validation predictions and saved in the checkpoint with the adapters.
"""
import time
from typing import Callable, List, Optional, Sequence

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
            Instead of ``tokens``, ``views`` encodes several crops of the image (like LLaVA's
            global view + tiles): a list of ``dict(box=(x0, y0, x1, y1)`` (fractions of the
            image; default the whole image), ``size=(h, w)`` (the crop is resized to it; needs
            the encoder's ``image_size=None``), ``grid=(rows, cols)`` (tokens pooled from the
            view's feature map), ``encoder`` (the view's own encoder config; default
            ``visual.encoder``))``; their tokens follow one another. A weather chart names its
            product in its title line: a wide, high-resolution view of the top strip, read by
            an encoder of its own trained by :meth:`warm_up_visual` (``VisualWarmupHook``),
            gives the model the pixels of the title (see the 270M config).
            ``product_head=dict(num_products, views=[indices])`` adds one more token after the
            views: a linear product classifier on the tokens of ``views`` (default all),
            trained by :meth:`warm_up_visual` and frozen with the encoders, gives a softmax over
            the products, which a linear map (trained with the projector; product k's column
            starts as the mean input embedding of k's name) turns into a token. Why: pooled
            feature maps carry the title among much else, and the LM did not learn to find it
            there in the epochs a CPU allows (a linear probe on the same tokens did); the
            product token hands it the image's belief as one clean token, which it learns to
            weigh against the elements and candidates.
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
        self.visual_product_head = self.visual_product_embed = None
        self.product_head_views: List[int] = []
        self.visual_view_encoders = torch.nn.ModuleDict()
        if visual is not None:
            self._build_visual(dict(visual))

    def _build_visual(self, visual: dict) -> None:
        if self.multimodal:
            raise ConfigError('visual=... is for text-only LMs; this LM has its own vision '
                              'tower (leave visual=None)')
        if 'encoder' not in visual:
            raise ConfigError("visual needs an 'encoder', e.g. dict(type='MobileNetV2Encoder', "
                              "pretrained='imagenet', out_type='feature_map')")
        self.visual_views = self._parse_views(visual)
        unknown = set(visual) - {'encoder', 'tokens', 'views', 'hidden', 'product_head'}
        if unknown:
            raise ConfigError(f'visual: unknown keys {sorted(unknown)} (allowed: encoder, '
                              f'tokens, views, hidden, product_head)')
        self.visual_encoder = self._build_encoder(visual['encoder'], 'visual.encoder',
                                                  self.visual_views)
        # a view with its own encoder (e.g. a title strip read by a separately trained copy)
        self.visual_view_encoders = torch.nn.ModuleDict({
            str(i): self._build_encoder(view['encoder'], f'visual.views[{i}].encoder', [view])
            for i, view in enumerate(self.visual_views) if view['encoder'] is not None})
        for name, encoder in self.visual_view_encoders.items():
            if encoder.output_dim != self.visual_encoder.output_dim:
                raise ConfigError(f'visual.views[{name}].encoder gives {encoder.output_dim} '
                                  f'channels, visual.encoder {self.visual_encoder.output_dim}: '
                                  f'the views share one projector, so they must match')
        width = self.lm.config.get_text_config().hidden_size
        hidden = int(visual.get('hidden') or width)
        self.visual_projector = torch.nn.Sequential(
            torch.nn.Linear(self.visual_encoder.output_dim, hidden), torch.nn.GELU(),
            torch.nn.Linear(hidden, width))
        if visual.get('product_head') is not None:
            self._build_product_head(dict(visual['product_head']), width)

    def _build_product_head(self, cfg: dict, width: int) -> None:
        unknown = set(cfg) - {'num_products', 'views'}
        if unknown:
            raise ConfigError(f'visual.product_head: unknown keys {sorted(unknown)} (allowed: '
                              f'num_products, views)')
        if 'num_products' not in cfg or int(cfg['num_products']) < 2:
            raise ConfigError(f'visual.product_head.num_products must be the number of '
                              f'products (at least 2), got {cfg.get("num_products")}')
        views = list(cfg.get('views', range(len(self.visual_views))))
        if not views or any(not 0 <= int(v) < len(self.visual_views) for v in views):
            raise ConfigError(f'visual.product_head.views must be indices of visual.views '
                              f'(0..{len(self.visual_views) - 1}), got {cfg.get("views")}')
        self.product_head_views = sorted(int(v) for v in views)
        tokens = sum(self.visual_views[v]['tokens'] for v in self.product_head_views)
        self.visual_product_head = torch.nn.Linear(tokens * self.visual_encoder.output_dim,
                                                   int(cfg['num_products']))
        self.visual_product_embed = torch.nn.Linear(int(cfg['num_products']), width,
                                                    bias=False)

    @staticmethod
    def _build_encoder(cfg: dict, where: str, views: Sequence[dict]) -> torch.nn.Module:
        encoder = MODELS.build(cfg)
        if getattr(encoder, 'out_type', 'feature_map') != 'feature_map':
            raise ConfigError(f"{where} must return a feature map (out_type='feature_map')")
        if any(view['size'] is not None for view in views) and \
                getattr(encoder, 'image_size', None) is not None:
            raise ConfigError(f'visual.views set their own input sizes: set {where}.image_size'
                              f'=None (the encoder would resize every view to its square '
                              f'image_size again)')
        # Frozen unless its config says frozen=False: then it fine-tunes with the adapters (and
        # its weights go into checkpoints). Either way it stays in eval mode: batches of a few
        # charts would make BatchNorm statistics noise (only warm_up_visual, with batches of
        # images alone, lets them adapt).
        if getattr(encoder, 'frozen', True) is not False:
            encoder.requires_grad_(False)
        return encoder.eval()

    def visual_encoders(self) -> List[torch.nn.Module]:
        """The shared visual encoder and those of views with their own."""
        if self.visual_encoder is None:
            return []
        return [self.visual_encoder, *self.visual_view_encoders.values()]

    @staticmethod
    def _trains(module: torch.nn.Module) -> bool:
        return any(p.requires_grad for p in module.parameters())

    @property
    def visual_encoder_trains(self) -> bool:
        """Whether any visual encoder has trainable weights."""
        return any(self._trains(e) for e in self.visual_encoders())

    def _encoder_of_view(self, index: int) -> torch.nn.Module:
        return self.visual_view_encoders[str(index)] \
            if str(index) in self.visual_view_encoders else self.visual_encoder

    @staticmethod
    def _parse_views(visual: dict) -> List[dict]:
        """``visual`` -> ``[{'box': (x0, y0, x1, y1) fractions, 'size': (h, w) or None,
        'grid': (gh, gw), 'tokens': gh * gw, 'encoder': config or None}]``, one per view;
        without ``views`` one whole-image view of ``tokens`` (a square number) tokens at the
        encoder's own size."""
        if 'views' not in visual:
            tokens = int(visual.get('tokens', 4))
            grid = int(round(tokens**0.5))
            if grid * grid != tokens:
                raise ConfigError(f'visual.tokens must be a square number (a pooled grid), got '
                                  f'{tokens}')
            return [dict(box=(0.0, 0.0, 1.0, 1.0), size=None, grid=(grid, grid), tokens=tokens,
                         encoder=None)]
        if 'tokens' in visual:
            raise ConfigError('visual: give either tokens (one whole-image view) or views '
                              '(each with its own grid), not both')
        views = []
        for i, view in enumerate(visual['views']):
            where = f'visual.views[{i}]'
            unknown = set(view) - {'box', 'size', 'grid', 'encoder'}
            if unknown:
                raise ConfigError(f'{where}: unknown keys {sorted(unknown)} (allowed: box, '
                                  f'size, grid, encoder)')
            box = tuple(float(v) for v in view.get('box', (0.0, 0.0, 1.0, 1.0)))
            if len(box) != 4 or not (0 <= box[0] < box[2] <= 1 and 0 <= box[1] < box[3] <= 1):
                raise ConfigError(f'{where}.box must be (x0, y0, x1, y1) fractions of the '
                                  f'image with 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, got '
                                  f'{view.get("box")}')
            size = view.get('size')
            if size is not None:
                size = (int(size), int(size)) if isinstance(size, int) else tuple(map(int, size))
                if len(size) != 2 or min(size) < 1:
                    raise ConfigError(f'{where}.size must be (height, width) in pixels, got '
                                      f'{view.get("size")}')
            grid = view.get('grid', 2)
            grid = (int(grid), int(grid)) if isinstance(grid, int) else tuple(map(int, grid))
            if len(grid) != 2 or min(grid) < 1:
                raise ConfigError(f'{where}.grid must be rows x columns of pooled tokens, got '
                                  f'{view.get("grid")}')
            views.append(dict(box=box, size=size, grid=grid, tokens=grid[0] * grid[1],
                              encoder=view.get('encoder')))
        if not views:
            raise ConfigError('visual.views is empty: give at least one view')
        return views

    @property
    def num_visual_tokens(self) -> int:
        return sum(v['tokens'] for v in self.visual_views) + \
            int(self.visual_product_head is not None)

    def _view_token_index(self, views: Sequence[int]) -> torch.Tensor:
        """Positions of the tokens of ``views`` among all views' tokens."""
        starts = [0]
        for view in self.visual_views:
            starts.append(starts[-1] + view['tokens'])
        return torch.cat([torch.arange(starts[v], starts[v + 1]) for v in views])

    def train(self, mode: bool = True):
        super().train(mode)
        for encoder in self.visual_encoders():
            encoder.eval()  # BatchNorm keeps its statistics, frozen or not
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
                             candidate_names, visual: Optional[torch.Tensor] = None) -> dict:
        """The LM inputs of one example's prompt, ending where the answer starts: ``input_ids
        [1, P]``, plus ``pixel_values`` and ``token_type_ids`` for a multimodal LM, or
        ``inputs_embeds [1, P, H]`` with the projected visual tokens spliced in (``visual``;
        their ``input_ids`` are pad placeholders). ``visual [1, tokens, H]``: the image's
        projected visual tokens when already computed (a batch encodes its images at once)."""
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
        count = self.num_visual_tokens
        ids = torch.cat([pieces[0], torch.full((count, ), tokenizer.pad_token_id or 0),
                         pieces[1]])[None].to(self.lm._device())
        embeds = self.lm.model.get_input_embeddings()(ids)
        if visual is None:
            visual = self.visual_tokens(image[None].to(self.lm._device()))  # [1, n, H]
        start = pieces[0].numel()
        embeds = torch.cat([embeds[:, :start], visual.to(embeds.dtype),
                            embeds[:, start + count:]], dim=1)
        return dict(input_ids=ids, inputs_embeds=embeds)

    def visual_features(self, images: torch.Tensor,
                        views: Optional[Sequence[int]] = None) -> torch.Tensor:
        """``images [N, 3, H, W]`` in [0, 1] -> ``[N, tokens, C]``: every view (or the views
        of the indices ``views``) cropped from the images, resized to its size, encoded
        (frozen unless configured to fine-tune) and average-pooled to its grid, the views'
        tokens one after the other (rows first)."""
        height, width = images.shape[-2:]
        tokens = []
        for index in range(len(self.visual_views)) if views is None else views:
            view, encoder = self.visual_views[index], self._encoder_of_view(index)
            with torch.set_grad_enabled(self._trains(encoder) and torch.is_grad_enabled()):
                x0, y0, x1, y1 = view['box']
                crop = images[..., int(round(y0 * height)):max(int(round(y1 * height)), 1),
                              int(round(x0 * width)):max(int(round(x1 * width)), 1)]
                if view['size'] is not None and tuple(crop.shape[-2:]) != view['size']:
                    crop = torch.nn.functional.interpolate(crop, size=view['size'],
                                                           mode='bilinear', antialias=True,
                                                           align_corners=False)
                feats = encoder(crop)  # [N, C, h, w]
                grid = torch.nn.functional.adaptive_avg_pool2d(feats, view['grid'])
                tokens.append(grid.flatten(2).transpose(1, 2))
        return torch.cat(tokens, dim=1)

    def visual_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """``images [N, 3, H, W]`` in [0, 1] -> ``[N, tokens, H_lm]`` projected visual tokens
        (:meth:`visual_features` through the trained projector), then the product token when
        there is a product head."""
        features = self.visual_features(images)
        tokens = self.visual_projector(features)
        if self.visual_product_head is None:
            return tokens
        index = self._view_token_index(self.product_head_views).to(features.device)
        probs = self._product_probs(features[:, index])
        return torch.cat([tokens, self.visual_product_embed(probs)[:, None]], dim=1)

    def _product_probs(self, features: torch.Tensor) -> torch.Tensor:
        """The head views' tokens ``[N, m, C]`` -> the product head's softmax ``[N, P]``."""
        return self.visual_product_head(features.flatten(1)).softmax(-1)

    @torch.no_grad()
    def product_head_probs(self, images: torch.Tensor) -> torch.Tensor:
        """``images [N, 3, H, W]`` -> ``[N, num_products]``: the product head's belief on
        its own (what the image says without the LM; needs ``visual.product_head``)."""
        if self.visual_product_head is None:
            raise ConfigError('product_head_probs needs visual.product_head in the config')
        # only the head's views are encoded, in the same (sorted) order visual_tokens takes
        return self._product_probs(self.visual_features(images, self.product_head_views))

    def warm_up_visual(self, dataset, epochs: int, lr: float, head_lr: Optional[float] = None,
                       batch_size: int = 16, weight_decay: float = 1e-4, seed: int = 0,
                       freeze_after: bool = False, head_epochs: int = 30,
                       progress: bool = True,
                       on_epoch: Optional[Callable[[dict], None]] = None) -> List[dict]:
        """Train the trainable visual encoders on their own before the LM sees their tokens:
        a linear head on their views' tokens (``[N, tokens * C]``, so a token's place counts)
        predicts each training image's product (``data_samples['label']``, the vocabulary
        index), cross entropy, AdamW; the head is thrown away afterwards.

        Why: with the elements given as text, the LM's loss reaches the encoder only through
        the few charts whose element set several products share, and one LM step costs as much
        as dozens of encoder steps; this uses every training image at the encoder's cost.

        The trained encoders run in train mode here, so their BatchNorm statistics adapt to
        what they see (a title strip is nothing like an ImageNet photo; fine-tuning MobileNetV2
        on title strips with ImageNet's statistics kept collapsed to one class on the demo
        charts, with batch statistics it learnt to read them), then go back to eval mode.
        ``freeze_after=True`` freezes them afterwards, so the LM's training keeps what they
        learnt (their weights are still saved in checkpoints). Under DDP every rank takes its
        share of the images and the gradients are averaged, so the ranks stay identical.

        With ``visual.product_head`` the head is that one (its views, kept and, with
        ``freeze_after``, frozen too) instead of a throw-away one, and the product token's map
        starts from the mean input embedding of each product's name (``dataset.vocab`` and
        ``dataset.product_field``), so the token first looks to the LM like the name it stands
        for. Then ``head_epochs`` more epochs train the head alone on the encoders' features
        in eval mode (computed once): during the encoder epochs it saw batch statistics and a
        moving encoder, and the LM will see it on running statistics (on the demo charts the
        kept head was at 0.78 training accuracy after the encoder epochs; refitted, 1.00).

        Returns one ``dict(stage, epoch, loss, acc)`` per epoch (training loss and accuracy;
        ``stage`` is ``'encoder'``, then ``'head'`` for the head-only epochs); ``on_epoch``, if
        given, is called with each as soon as its epoch ends (the hook logs them there).
        """
        from mmengine.dist import all_reduce, get_rank, get_world_size
        from rich.progress import track
        from torch.utils.data import DataLoader, DistributedSampler

        from vtt.datasets.meteo_products import product_collate
        if self.visual_encoder is None:
            raise ConfigError('warm_up_visual needs visual=dict(encoder=...) (a text-only LM '
                              'with visual tokens)')
        trained = [e for e in self.visual_encoders() if self._trains(e)]
        if not trained:
            raise ConfigError('warm_up_visual: every visual encoder is frozen; set frozen=False '
                              'in the config of the one to train (model.visual.encoder or a '
                              "view's encoder)")
        device = self.lm._device()
        num_classes = len(dataset.vocab.products)
        if self.visual_product_head is not None and \
                self.visual_product_head.out_features != num_classes:
            raise ConfigError(f'visual.product_head.num_products is '
                              f'{self.visual_product_head.out_features} but the vocabulary '
                              f'({dataset.vocab.path}) has {num_classes} products')
        world = get_world_size()
        sampler = DistributedSampler(dataset, world, get_rank(), shuffle=True, seed=seed) \
            if world > 1 else None
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=sampler is None,
                            sampler=sampler, generator=torch.Generator().manual_seed(seed),
                            collate_fn=product_collate)
        # only the views whose encoder trains are encoded and seen by the head: were it to see
        # the frozen views too it could lean on them, and the trained encoder would learn less
        # (on the demo charts the whole-image view alone tells most products apart, and the
        # title strip's encoder would not have to read)
        views = [i for i in range(len(self.visual_views)) if self._trains(self._encoder_of_view(i))]
        if self.visual_product_head is not None:
            missing = sorted(set(views) - set(self.product_head_views))
            if missing:
                raise ConfigError(f'warm_up_visual: the encoders of views {missing} train but '
                                  f'visual.product_head does not read them (views='
                                  f'{self.product_head_views}); add them to its views')
            views, head = self.product_head_views, self.visual_product_head
            self._init_product_embed(dataset)
        else:
            tokens = sum(self.visual_views[i]['tokens'] for i in views)
            head = torch.nn.Linear(tokens * self.visual_encoder.output_dim,
                                   num_classes).to(device)
        params = [p for e in trained for p in e.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW([dict(params=params, lr=lr),
                                       dict(params=head.parameters(), lr=head_lr or 10 * lr)],
                                      weight_decay=weight_decay)
        history = []
        for encoder in trained:
            encoder.train()
        try:
            for epoch in range(epochs):
                if sampler is not None:
                    sampler.set_epoch(epoch)
                total, correct, seen = 0.0, 0, 0
                batches = track(loader, f'visual warm-up {epoch + 1}/{epochs}',
                                disable=not progress or get_rank() != 0)
                for batch in batches:
                    images = batch['inputs'].float().to(device)
                    labels = batch['data_samples']['label'].to(device)
                    logits = head(self.visual_features(images, views).flatten(1))
                    loss = torch.nn.functional.cross_entropy(logits, labels)
                    optimizer.zero_grad()
                    loss.backward()
                    if world > 1:
                        for param in params + list(head.parameters()):
                            all_reduce(param.grad, op='mean')
                    optimizer.step()
                    total += float(loss.detach()) * len(labels)
                    correct += int((logits.argmax(-1) == labels).sum())
                    seen += len(labels)
                history.append(dict(stage='encoder', epoch=epoch + 1, loss=total / max(seen, 1),
                                    acc=correct / max(seen, 1)))
                if on_epoch is not None:
                    on_epoch(history[-1])
        finally:
            for encoder in trained:
                encoder.eval()
            for param in params:
                param.grad = None  # the LM's first step must not apply the warm-up's last one
            for param in head.parameters():
                param.grad = None
        if self.visual_product_head is not None and head_epochs > 0:
            history += self._fit_product_head(dataset, head_epochs, head_lr or 10 * lr,
                                              batch_size, weight_decay, seed, progress,
                                              on_epoch)
        if freeze_after:
            for module in trained + [self.visual_product_head]:
                if module is not None:
                    module.requires_grad_(False)
        return history

    def _fit_product_head(self, dataset, epochs: int, lr: float, batch_size: int,
                          weight_decay: float, seed: int, progress: bool,
                          on_epoch: Optional[Callable[[dict], None]] = None) -> List[dict]:
        """Train the product head alone on its views' features with the encoders in eval
        mode (as the LM will see them), encoded once. Every rank encodes every image and
        shuffles with the same seed, so the ranks stay identical without communication."""
        from rich.progress import track
        from torch.utils.data import DataLoader

        from vtt.datasets.meteo_products import product_collate
        device = self.lm._device()
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                            collate_fn=product_collate)
        features, labels = [], []
        with torch.no_grad():
            for batch in track(loader, 'product head: encoding', disable=not progress):
                features.append(self.visual_features(batch['inputs'].float().to(device),
                                                     self.product_head_views).flatten(1))
                labels.append(batch['data_samples']['label'].to(device))
        features, labels = torch.cat(features), torch.cat(labels)
        head = self.visual_product_head
        optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
        generator = torch.Generator().manual_seed(seed)
        history = []
        for epoch in range(epochs):
            total, correct = 0.0, 0
            for index in torch.randperm(len(labels), generator=generator).split(batch_size):
                index = index.to(device)
                logits = head(features[index])
                loss = torch.nn.functional.cross_entropy(logits, labels[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(index)
                correct += int((logits.argmax(-1) == labels[index]).sum())
            history.append(dict(stage='head', epoch=epoch + 1, loss=total / len(labels),
                                acc=correct / len(labels)))
            if on_epoch is not None:
                on_epoch(history[-1])
        for param in head.parameters():
            param.grad = None
        return history

    @torch.no_grad()
    def _init_product_embed(self, dataset) -> None:
        """Set the product token's map so that a one-hot belief in product ``k`` gives the
        mean input embedding of product ``k``'s name (as the prompt writes it)."""
        from vtt.datasets.meteo_products import product_names
        field = getattr(dataset, 'product_field', None)
        if field is None:
            return  # no names to start from: keep the random initialisation
        names = product_names(dataset.vocab.products, dataset.vocab, field)
        embed = self.lm.model.get_input_embeddings()
        weight = self.visual_product_embed.weight  # [H_lm, num_products]
        for k, name in enumerate(names):
            ids = torch.tensor(self.tokenizer(name, add_special_tokens=False).input_ids,
                               device=weight.device)
            weight[:, k] = embed(ids[None])[0].float().mean(0).to(weight.dtype)

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
        # one encoder pass for the whole batch (BatchNorm is in eval mode: same result as one
        # image at a time)
        visual = None if self.visual_encoder is None else self.visual_tokens(inputs.to(device))
        for i in range(len(data_samples['answer_name'])):
            prompt = self.encode_prompt_inputs(
                inputs[i], data_samples['element_names'][i], data_samples['candidate_names'][i],
                visual=None if visual is None else visual[i:i + 1])
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
        # the product head's own belief, for the report next to the LM's (one pass per batch)
        head_probs = None if self.visual_product_head is None else \
            self.product_head_probs(inputs.to(self.lm._device()))
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
                if head_probs is not None:  # what the head alone chooses among them
                    labels = record['candidate_labels']
                    record['visual_head_label'] = labels[int(head_probs[i, labels].argmax())]
            else:  # nothing passed the filter: no product can be chosen
                record.update(pred_scores=torch.zeros(0), pred_probs=torch.zeros(0),
                              pred_label=-1, pred_product=None, tokens=0)
                if head_probs is not None:
                    record['visual_head_label'] = -1
            record['latency_s'] = time.perf_counter() - start
            out.append(record)
        return out
