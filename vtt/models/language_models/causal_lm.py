"""A pretrained causal language model (Hugging Face ``transformers``) as a vtt component.

Full precision (fp32 / bf16), or QLoRA: the base quantised to 4-bit NF4 with double
quantisation (``bitsandbytes``) and frozen, with LoRA adapters (``peft``) as the only trainable
weights. Checkpoints hold only those adapters plus a record of the base model's source and the
SHA-256 of its weight files; the base is re-created from the source. A scoring method gives the
summed log-likelihood of candidate continuations of one prompt, computing the prompt's key/value
cache once.

The bitsandbytes CPU trap
-------------------------
On CPUs with AVX512-BF16 (``grep avx512_bf16 /proc/cpuinfo``), bitsandbytes 0.50 permanently
repacks a ``Linear4bit`` weight into a CPU-only layout the first time the layer runs in eval mode
on an input that needs no gradient (``generate``, validation, candidate scoring). From then on the
layer computes through ``gemv_4bit``, which has no autograd formula: gradients that should flow
*through* the frozen 4-bit layers are silently dropped (only a UserWarning "an autograd kernel
was not registered"), and every LoRA gradient below the last layer is wrong. HFCausalLM turns the
repacking off on every ``Linear4bit`` right after loading (:func:`disable_cpu_weight_repacking`).
"""
import copy
import hashlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

from vtt.registry import MODELS
from vtt.utils.assets import cached_sha256
from vtt.utils.errors import ConfigError, PretrainedWeightsMismatchError

from ..utils import load_pretrained

__all__ = [
    'HFCausalLM', 'PromptState', 'LM_ASSETS', 'LM_GENERATED', 'LORA_TARGETS', 'resolve_lm_weights',
    'disable_cpu_weight_repacking', 'source_weights_sha256'
]

#: Names usable as ``pretrained`` for language models bundled as packages (real weights,
#: offline): the name -> the function of :mod:`vtt.utils.assets` that returns the directory.
LM_ASSETS = {'gemma3_270m': 'gemma3_270m_hf_dir'}

#: Names usable as ``pretrained`` for models GENERATED offline on first use (random weights, for
#: demos and tests of the real loading path): the name -> the function of
#: :mod:`vtt.models.language_models.tiny_gemma3` that writes the directory (once) and returns it.
LM_GENERATED = {'tiny_gemma3_meteo': 'tiny_gemma3_meteo_dir'}

#: LoRA targets by default: the attention and MLP projections of Llama/Gemma-style decoders.
LORA_TARGETS = ('q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj')

_DTYPES = {
    'float32': torch.float32, 'fp32': torch.float32, 'bfloat16': torch.bfloat16,
    'bf16': torch.bfloat16, 'float16': torch.float16, 'fp16': torch.float16
}
_QUANTIZATIONS = ('nf4', 'fp4')
_WEIGHT_SUFFIXES = ('.safetensors', '.bin')


def resolve_lm_weights(pretrained: str) -> str:
    """A name of :data:`LM_ASSETS` (``'gemma3_270m'``, also ``'gemma3-270m'``) or of
    :data:`LM_GENERATED` (``'tiny_gemma3_meteo'``) -> its local directory (converted or written
    once into vtt's cache); anything else (a hub id or a local directory) is returned as is
    (``~`` expanded)."""
    key = str(pretrained).strip().lower().replace('-', '_')
    if key in LM_ASSETS:
        from vtt.utils import assets
        return str(getattr(assets, LM_ASSETS[key])())
    if key in LM_GENERATED:
        from . import tiny_gemma3
        return str(getattr(tiny_gemma3, LM_GENERATED[key])())
    return os.path.expanduser(str(pretrained))


def disable_cpu_weight_repacking(model: torch.nn.Module) -> int:
    """Keep bitsandbytes from repacking 4-bit weights for its CPU inference kernel.

    Sets ``support_avx512bf16_for_cpu = False`` on every ``bnb.nn.Linear4bit`` of ``model`` and
    unpacks a weight that was already repacked (see the module docstring: after a repack, LoRA
    gradients through the layer are silently dropped). Harmless on CPUs without AVX512-BF16
    and on GPUs.

    Returns:
        int: The number of ``Linear4bit`` layers.
    """
    bnb = sys.modules.get('bitsandbytes')
    if bnb is None:  # never imported: the model cannot hold a Linear4bit
        return 0
    count = 0
    for module in model.modules():
        if not isinstance(module, bnb.nn.Linear4bit):
            continue
        module.support_avx512bf16_for_cpu = False
        state = getattr(module.weight, 'quant_state', None)
        if state is not None and getattr(state, 'packing_format_for_cpu', False):
            from bitsandbytes.nn.modules import _convert_weight_packed_for_cpu_inverse
            module.weight.data, module.weight.quant_state = \
                _convert_weight_packed_for_cpu_inverse(module.weight.data, state)
        count += 1
    return count


def source_weights_sha256(location: str) -> Optional[str]:
    """One SHA-256 over the weight files (``*.safetensors``, ``*.bin``) of a model directory,
    or of the locally cached snapshot of a hub id; ``None`` when no weight file is found.

    The hash is of the files, not of the model in memory, so it does not depend on how the
    model was loaded (4-bit or full precision, CPU or GPU). About 1 s per GB, once per process
    and file.
    """
    folder = location
    if not os.path.isdir(folder):
        try:
            from huggingface_hub import snapshot_download
            folder = snapshot_download(location, local_files_only=True)
        except Exception:  # not a hub id with a local snapshot
            return None
    files = sorted(p for p in Path(folder).iterdir()
                   if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(f'{path.name}|{cached_sha256(str(path))}|'.encode())
    return digest.hexdigest()


def _torch_dtype(value, key: str) -> Optional[torch.dtype]:
    if value is None or isinstance(value, torch.dtype):
        return value
    name = str(value).lower().replace('torch.', '')
    if name not in _DTYPES:
        raise ConfigError(f'{key}={value!r} is not a dtype; use one of {sorted(_DTYPES)}')
    return _DTYPES[name]


def _encode_record(record: dict) -> torch.Tensor:
    # JSON in a uint8 tensor: mmengine broadcasts state dicts between ranks, tensors only.
    return torch.tensor(list(json.dumps(record, default=str).encode()), dtype=torch.uint8)


def _decode_record(value) -> Optional[dict]:
    if isinstance(value, torch.Tensor):
        value = json.loads(bytes(value.tolist()).decode())
    return value if isinstance(value, dict) else None


class PromptState(NamedTuple):
    """A prompt encoded once by :meth:`HFCausalLM.encode_prompt`.

    Attributes:
        cache: The prompt's key/value cache (a ``DynamicCache``, batch 1). Scoring works on a
            copy; this one is never modified, so one state serves any number of candidate sets.
        last_log_probs (Tensor): ``[V]`` float32 log-probabilities of the token after the
            prompt (the first candidate token's distribution).
        length (int): Number of prompt tokens.
    """
    cache: Any
    last_log_probs: torch.Tensor
    length: int


@MODELS.register_module()
class HFCausalLM(BaseModule):
    """A Hugging Face causal LM, full precision or 4-bit NF4 + LoRA (QLoRA).

    ``pretrained`` is loaded with the ordinary ``<model_class>.from_pretrained(dir or hub id)``.
    Three set-ups:

    * **Frozen** (``lora=None, frozen=True``, the default): a fixed scorer; stays in eval mode.
    * **Full fine-tuning** (``lora=None, frozen=False``, full precision only).
    * **LoRA** (``lora=dict(...)``): the base is frozen and only the adapters train. With
      ``quantization='nf4'`` this is QLoRA: every linear layer of the base becomes a
      ``bnb.nn.Linear4bit`` (NF4, double quantisation, ``compute_dtype`` matmuls) except
      ``skip_modules``; ``peft.prepare_model_for_kbit_training`` then casts the remaining
      16-bit weights (norms, embeddings) to fp32 (``prepare_kbit=False`` skips that, e.g. to
      keep a large embedding in bf16 on a small GPU). Repacking of 4-bit weights on AVX512-BF16
      CPUs is turned off (see the module docstring).

    **Checkpoints.** When the base is frozen, ``state_dict()`` holds only the trainable (LoRA)
    weights plus ``_extra_state``: a record of ``pretrained`` (as configured, e.g. the alias),
    the SHA-256 of the source's weight files (:func:`source_weights_sha256`; ~1 s for the 1 GB
    Gemma 3 270M, once per process, and only when a checkpoint is saved or loaded) and the
    constructor arguments. Loading such a checkpoint into a model built from the same config
    keeps the base re-created from the source, loads the adapters (strict loading does not
    miss the base) and raises :class:`PretrainedWeightsMismatchError` when the source's weights
    hash differently. :meth:`from_checkpoint` rebuilds the model from the record alone. (The
    hash is of the files, not of the 4-bit tensors in memory: those depend on the quantiser
    and device, and bitsandbytes keeps the quantisation scales outside the parameters.)

    Args:
        pretrained (str): ``'gemma3_270m'`` (Gemma 3 270M from the bundled GGUF asset,
            converted once into a Hugging Face directory in vtt's cache; see
            :data:`LM_ASSETS`), a hub id or a local ``save_pretrained`` directory.
        model_class (str): The ``transformers`` class whose ``from_pretrained`` loads it.
            Defaults to ``'AutoModelForCausalLM'`` (``'Gemma3ForConditionalGeneration'`` for
            the multimodal Gemma 3).
        dtype (str, optional): dtype of the unquantised weights as loaded: ``'float32'``,
            ``'bfloat16'``, ``'float16'``. Defaults to float32, or to ``compute_dtype`` with
            quantisation.
        quantization (str, optional): ``'nf4'`` (or ``'fp4'``) for 4-bit bitsandbytes.
        compute_dtype (str): dtype of the 4-bit matmuls. Defaults to ``'bfloat16'``.
        double_quant (bool): Quantise the quantisation scales too. Defaults to True.
        skip_modules (list[str], optional): Module names kept unquantised
            (``llm_int8_skip_modules``; once given, list ``lm_head`` too if it must stay).
        lora (dict, optional): ``r`` (8), ``alpha`` (16), ``dropout`` (0.05),
            ``target_modules`` (a list of module-name suffixes, default :data:`LORA_TARGETS`,
            or a regex string matched against full module names, e.g.
            ``'.*language_model.*\\.(q_proj|v_proj)'``); other keys go to ``peft.LoraConfig``.
        frozen (bool): Freeze the base when there is no LoRA. Defaults to True.
        gradient_checkpointing (bool): Recompute activations in the backward pass
            (non-reentrant). Saves memory on large models, costs time. Defaults to False.
        prepare_kbit (bool): Run ``peft.prepare_model_for_kbit_training`` on a quantised
            model. Defaults to True.
        local_files_only (bool): Never contact the hub. Defaults to False.
        load_kwargs (dict, optional): More ``from_pretrained`` arguments (``device_map``,
            ``attn_implementation`` ...).
        config_key (str): Where ``pretrained`` sits in the config, for error messages.

    Attributes:
        model: The loaded model (a ``peft.PeftModel`` with LoRA).
        location (str): The resolved directory or hub id.
        num_linear4bit (int): Number of ``bnb.nn.Linear4bit`` layers (0 in full precision).
        tokenizer: The model's tokenizer, loaded from ``location`` on first use.

    Shapes: ``forward(input_ids [N, L], attention_mask [N, L], labels [N, L])`` returns the
    ``transformers`` output (``logits [N, L, V]``, ``loss`` when labels are given);
    :meth:`candidate_log_likelihoods` returns ``[K]`` for K candidates.
    """

    def __init__(self,
                 pretrained: str,
                 model_class: str = 'AutoModelForCausalLM',
                 dtype: Optional[str] = None,
                 quantization: Optional[str] = None,
                 compute_dtype: str = 'bfloat16',
                 double_quant: bool = True,
                 skip_modules: Optional[Sequence[str]] = None,
                 lora: Optional[dict] = None,
                 frozen: bool = True,
                 gradient_checkpointing: bool = False,
                 prepare_kbit: bool = True,
                 local_files_only: bool = False,
                 load_kwargs: Optional[dict] = None,
                 config_key: str = 'pretrained'):
        super().__init__()
        self._init_args = dict(
            pretrained=str(pretrained), model_class=model_class,
            dtype=None if dtype is None else str(dtype), quantization=quantization,
            compute_dtype=str(compute_dtype), double_quant=double_quant,
            skip_modules=None if skip_modules is None else list(skip_modules),
            lora=None if lora is None else dict(lora), frozen=frozen,
            gradient_checkpointing=gradient_checkpointing, prepare_kbit=prepare_kbit,
            local_files_only=local_files_only, load_kwargs=load_kwargs, config_key=config_key)
        if pretrained is None:
            raise ConfigError(f'{config_key} is required: a hub id, a local directory or one '
                              f'of {sorted(LM_ASSETS)}')
        if quantization is not None and quantization not in _QUANTIZATIONS:
            raise ConfigError(f'quantization={quantization!r}: use None or one of '
                              f'{_QUANTIZATIONS}')
        if quantization is not None and lora is None and not frozen:
            raise ConfigError(f'quantization={quantization!r} with frozen=False and lora=None: '
                              '4-bit weights cannot be trained; add lora=dict(r=8, alpha=16) '
                              '(QLoRA) or load in full precision.')
        import transformers
        loader = getattr(transformers, model_class, None)
        if loader is None or not hasattr(loader, 'from_pretrained'):
            raise ConfigError(f'model_class={model_class!r} is not a transformers model class '
                              '(e.g. AutoModelForCausalLM, Gemma3ForConditionalGeneration)')
        compute = _torch_dtype(compute_dtype, 'compute_dtype')
        dtype = _torch_dtype(dtype, 'dtype') or (compute if quantization else torch.float32)

        self.pretrained = str(pretrained)
        self.config_key = config_key
        self.local_files_only = local_files_only
        self.quantization = quantization
        self.location = resolve_lm_weights(pretrained)
        self.has_lora = lora is not None
        self.frozen_base = lora is not None or frozen
        self._tokenizer = None
        self._base_sha256 = None
        self._load_prefix = None

        kwargs = dict(load_kwargs or {})
        kwargs['dtype'] = dtype
        if quantization is not None:
            kwargs['quantization_config'] = self._bnb_config(quantization, compute, double_quant,
                                                             skip_modules)
        offline = ('a model that ships offline: ' + ', '.join(
            f"'{name}'" for name in (*LM_ASSETS, *LM_GENERATED)) + ' (real Gemma 3 270M; a '
                   'tiny random Gemma 3 for demos and tests)')
        model = load_pretrained(loader.from_pretrained, self.location,
                                f'{model_class} ({pretrained})', config_key,
                                local_files_only=local_files_only, offline=offline, **kwargs)
        # Before anything can run a forward pass: no CPU repacking of 4-bit weights.
        self.num_linear4bit = disable_cpu_weight_repacking(model)
        if self.frozen_base:
            for param in model.parameters():
                param.requires_grad_(False)
        checkpointing = dict(gradient_checkpointing_kwargs=dict(use_reentrant=False))
        if quantization is not None and prepare_kbit:
            from peft import prepare_model_for_kbit_training
            model = prepare_model_for_kbit_training(
                model, use_gradient_checkpointing=gradient_checkpointing, **checkpointing)
        elif gradient_checkpointing:
            model.gradient_checkpointing_enable(**checkpointing)
        if lora is not None:
            model = self._add_lora(model, lora)
            disable_cpu_weight_repacking(model)
        self.model = model
        # The weights a checkpoint holds when the base is frozen (the adapters).
        self._saved_names = None
        if self.frozen_base:
            self._saved_names = frozenset(name for name, param in model.named_parameters()
                                          if param.requires_grad)
        if self.frozen_base and lora is None:
            self.model.eval()
        self._register_state_dict_hook(_keep_trainable_weights)
        self.register_load_state_dict_pre_hook(_check_base_record)
        self.register_load_state_dict_post_hook(_ignore_missing_base)

    # --- construction ------------------------------------------------------------------------

    @staticmethod
    def _bnb_config(quantization, compute, double_quant, skip_modules):
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ConfigError('quantization needs bitsandbytes: pip install bitsandbytes (or '
                              'bash tools/setup_env.sh)') from None
        from transformers import BitsAndBytesConfig
        return BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type=quantization,
            bnb_4bit_use_double_quant=double_quant, bnb_4bit_compute_dtype=compute,
            llm_int8_skip_modules=None if skip_modules is None else list(skip_modules))

    def _add_lora(self, model, lora: dict):
        from peft import LoraConfig, get_peft_model
        options = dict(lora)
        targets = options.pop('target_modules', LORA_TARGETS)
        if not isinstance(targets, str):
            targets = list(targets)
        try:
            config = LoraConfig(r=options.pop('r', 8), lora_alpha=options.pop('alpha', 16),
                                lora_dropout=options.pop('dropout', 0.05),
                                target_modules=targets, bias=options.pop('bias', 'none'),
                                task_type=options.pop('task_type', 'CAUSAL_LM'), **options)
        except TypeError as error:
            raise ConfigError(f'lora={lora!r}: {error}; keys are r, alpha, dropout, '
                              'target_modules and any peft.LoraConfig argument') from None
        try:
            return get_peft_model(model, config)
        except ValueError as error:
            raise ConfigError(f'lora.target_modules={targets!r} matches no layer of '
                              f'{self.pretrained!r} ({error})') from None

    def init_weights(self) -> None:
        # Weights come from from_pretrained (and peft's adapter init); mmengine's recursion
        # would re-initialise them.
        pass

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_base and not self.has_lora:
            self.model.eval()  # a frozen scorer never runs in train mode
        return self

    # --- information ---------------------------------------------------------------------------

    @property
    def config(self):
        """The Hugging Face config of the loaded model."""
        return self.model.config

    @property
    def tokenizer(self):
        """The tokenizer of ``location`` (``AutoTokenizer``), loaded on first use."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer
            self._tokenizer = load_pretrained(
                AutoTokenizer.from_pretrained, self.location, f'{self.pretrained} tokenizer',
                self.config_key, local_files_only=self.local_files_only)
        return self._tokenizer

    def parameter_counts(self) -> Tuple[int, int]:
        """``(trainable, total)`` parameter counts; a 4-bit weight counts its unpacked size."""
        trainable = total = 0
        for param in self.model.parameters():
            count = param.numel()
            if param.__class__.__name__ == 'Params4bit':  # two 4-bit values per byte
                count *= 2 * getattr(getattr(param, 'quant_storage', None), 'itemsize', 1)
            total += count
            trainable += count if param.requires_grad else 0
        return trainable, total

    @property
    def base_weights_sha256(self) -> Optional[str]:
        """:func:`source_weights_sha256` of ``location`` (computed once per instance)."""
        if self._base_sha256 is None:
            self._base_sha256 = source_weights_sha256(self.location) or ''
        return self._base_sha256 or None

    # --- forward -----------------------------------------------------------------------------

    def forward(self,
                input_ids: Optional[torch.Tensor] = None,
                attention_mask: Optional[torch.Tensor] = None,
                labels: Optional[torch.Tensor] = None,
                **kwargs):
        """The wrapped model's forward (``logits [N, L, V]``; ``loss`` when ``labels`` are
        given: next-token cross-entropy, label -100 ignored)."""
        return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                          **kwargs)

    # --- candidate scoring -------------------------------------------------------------------

    def _device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    def _prompt_inputs(self, prompt_ids, model_inputs: dict):
        """``({'input_ids': [1, P]} or {'inputs_embeds': [1, P, H]}, attention mask [1, P])``
        of a prompt given as ids or as ``model_inputs['inputs_embeds']`` (popped)."""
        embeds = model_inputs.pop('inputs_embeds', None)
        if embeds is not None:
            embeds = embeds.reshape(1, -1, embeds.shape[-1])
            inputs = dict(inputs_embeds=embeds)
        else:
            embeds = torch.as_tensor(prompt_ids, dtype=torch.long,
                                     device=self._device()).reshape(1, -1)
            inputs = dict(input_ids=embeds)
        return inputs, torch.ones(embeds.shape[:2], dtype=torch.long, device=self._device())

    @torch.no_grad()
    def encode_prompt(self, prompt_ids=None, **model_inputs) -> PromptState:
        """Run the prompt once and keep its key/value cache.

        Args:
            prompt_ids: ``[P]`` or ``[1, P]`` token ids (tensor or list), special tokens
                included (e.g. Gemma's ``<bos>``); None when ``inputs_embeds`` is given.
            **model_inputs: More inputs of the prompt forward (e.g. ``pixel_values``), or
                ``inputs_embeds [1, P, H]`` instead of ids (a prompt with spliced-in
                non-text embeddings, such as projected image features).

        Returns:
            PromptState: the cache, the next-token log-probabilities ``[V]`` and ``P``.
        """
        inputs, mask = self._prompt_inputs(prompt_ids, model_inputs)
        length = mask.shape[1]
        if length == 0:
            raise ValueError('the prompt has no tokens (it needs at least <bos>)')
        with _eval_mode(self):
            out = self.model(**inputs, attention_mask=mask, use_cache=True, logits_to_keep=1,
                             **model_inputs)
        return PromptState(out.past_key_values, out.logits[0, -1].float().log_softmax(-1),
                           length)

    @torch.no_grad()
    def candidate_log_likelihoods(self,
                                  prompt: Union[PromptState, torch.Tensor, Sequence[int]],
                                  candidates: Sequence[Sequence[int]],
                                  batch_size: Optional[int] = None) -> torch.Tensor:
        """Summed log-likelihood ``log p(candidate | prompt)`` of each candidate continuation.

        The prompt runs once (or pass a :class:`PromptState` from :meth:`encode_prompt` to
        reuse it across candidate sets). Candidates are right-padded into one batch that
        continues a copy of the prompt cache (expanded to the batch), with an attention mask
        over prompt + candidate tokens; a candidate's first token is scored with the prompt's
        last logits. Equal to scoring each ``prompt + candidate`` in full (to float rounding)
        at a fraction of the cost.

        Args:
            prompt: A :class:`PromptState`, or prompt token ids ``[P]``.
            candidates: K non-empty token-id sequences (no special tokens, typically).
            batch_size (int, optional): Candidates per forward pass (bounds the ``[K, L, V]``
                logits). Defaults to all at once.

        Returns:
            Tensor: ``[K]`` float32 summed log-probabilities (on the model's device).
        """
        state = prompt if isinstance(prompt, PromptState) else self.encode_prompt(prompt)
        device = state.last_log_probs.device
        rows = [torch.as_tensor(c, dtype=torch.long).reshape(-1) for c in candidates]
        if not rows:
            return torch.zeros(0, device=device)
        empty = [i for i, row in enumerate(rows) if row.numel() == 0]
        if empty:
            raise ValueError(f'candidates {empty} have no tokens')
        step = batch_size or len(rows)
        scores = [self._score_batch(state, rows[i:i + step]) for i in range(0, len(rows), step)]
        return torch.cat(scores)

    def _score_batch(self, state: PromptState, rows: List[torch.Tensor]) -> torch.Tensor:
        device = state.last_log_probs.device
        count, longest = len(rows), max(row.numel() for row in rows)
        tokens = torch.zeros(count, longest, dtype=torch.long)
        mask = torch.zeros(count, longest, dtype=torch.long)
        for i, row in enumerate(rows):
            tokens[i, :row.numel()] = row
            mask[i, :row.numel()] = 1
        tokens, mask = tokens.to(device), mask.to(device)
        total = state.last_log_probs[tokens[:, 0]]
        if longest == 1:
            return total
        cache = copy.deepcopy(state.cache)  # forwards grow a cache in place
        cache.batch_repeat_interleave(count)
        attention = torch.cat([mask.new_ones(count, state.length), mask[:, :-1]], dim=1)
        with _eval_mode(self):
            out = self.model(input_ids=tokens[:, :-1], attention_mask=attention,
                             past_key_values=cache, use_cache=True)
        log_probs = out.logits.float().log_softmax(-1)
        picked = log_probs.gather(-1, tokens[:, 1:, None]).squeeze(-1)
        return total + (picked * mask[:, 1:]).sum(1)

    @torch.no_grad()
    def generate_constrained(self, prompt_ids, candidates: Sequence[Sequence[int]],
                             num_beams: int = 1, **model_inputs) -> int:
        """The candidate the model GENERATES when decoding may only follow the candidates'
        token trie (for candidate sets too large to score one by one).

        ``transformers``' ``generate`` with ``prefix_allowed_tokens_fn``: after the prompt,
        only tokens that extend some candidate's prefix are allowed, so the output is always a
        whole candidate. Greedy (``num_beams=1``) commits to the best first token; with
        ``num_beams`` at least the number of candidates every candidate stays in the beam and
        the result is the exact best summed log-likelihood (beam scores are not length
        normalised here). Every candidate must end with the same stop token (e.g.
        ``<end_of_turn>``), which no candidate may contain earlier.

        Args:
            prompt_ids: ``[P]`` or ``[1, P]`` prompt token ids (None with ``inputs_embeds``).
            candidates: K token-id sequences, each ending with the stop token.
            num_beams (int): Beam width. Defaults to 1 (greedy).
            **model_inputs: More inputs of the prompt (``pixel_values``, or ``inputs_embeds
                [1, P, H]`` instead of ids).

        Returns:
            int: The index of the generated candidate.
        """
        rows = [tuple(int(t) for t in c) for c in candidates]
        if not rows or any(not r for r in rows):
            raise ValueError('generate_constrained needs non-empty candidates')
        stops = {r[-1] for r in rows}
        if len(stops) != 1 or any(stops & set(r[:-1]) for r in rows):
            raise ValueError('every candidate must end with the same stop token and contain it '
                             'nowhere else')
        if len(set(rows)) != len(rows):
            raise ValueError('two candidates have the same tokens')
        trie = {}
        for row in rows:
            for depth in range(len(row)):
                trie.setdefault(row[:depth], set()).add(row[depth])
        inputs, mask = self._prompt_inputs(prompt_ids, model_inputs)
        # generate returns the prompt ids first, but only the new tokens after embeddings
        start = mask.shape[1] if 'input_ids' in inputs else 0

        def allowed(batch_id, input_ids):
            # the trie's continuations of what was generated so far (a finished candidate
            # has none: then only the stop token, which ends that beam)
            return sorted(trie.get(tuple(input_ids[start:].tolist()), stops))

        beams = dict(num_beams=num_beams, length_penalty=0.0) if num_beams > 1 else {}
        with _eval_mode(self):
            out = self.model.generate(
                **inputs, attention_mask=mask,
                max_new_tokens=max(map(len, rows)), prefix_allowed_tokens_fn=allowed,
                do_sample=False, eos_token_id=next(iter(stops)),
                pad_token_id=self.config.get_text_config().pad_token_id or 0, **beams,
                **model_inputs)
        generated = tuple(out[0, start:].tolist())
        for index, row in enumerate(rows):
            if generated[:len(row)] == row:
                return index
        raise RuntimeError(f'constrained generation produced {generated}, not a candidate')

    def score_texts(self, prompt: str, candidates: Sequence[str],
                    batch_size: Optional[int] = None) -> torch.Tensor:
        """:meth:`candidate_log_likelihoods` of strings: the prompt is tokenised with the
        tokenizer's special tokens (Gemma: ``<bos>`` first), the candidates without.

        Returns:
            Tensor: ``[K]`` summed log-probabilities.
        """
        tokenizer = self.tokenizer
        prompt_ids = tokenizer(prompt).input_ids
        rows = [tokenizer(text, add_special_tokens=False).input_ids for text in candidates]
        return self.candidate_log_likelihoods(prompt_ids, rows, batch_size=batch_size)

    # --- checkpoints -------------------------------------------------------------------------

    def get_extra_state(self) -> torch.Tensor:
        base_saved = self._saved_names is None
        record = dict(pretrained=self.pretrained, base_saved=base_saved,
                      weights_sha256=None if base_saved else self.base_weights_sha256,
                      init=self._init_args)
        return _encode_record(record)

    def set_extra_state(self, state) -> None:
        # Checked by _check_base_record before any weight is loaded.
        pass

    @classmethod
    def from_checkpoint(cls, checkpoint: Union[str, dict], prefix: str = '',
                        **overrides) -> 'HFCausalLM':
        """Re-create a model from a checkpoint of it: the base from the recorded source and
        constructor arguments, then the checkpoint's (adapter) weights.

        Args:
            checkpoint: A file (an mmengine checkpoint or a saved state dict; read with vtt's
                safe loader) or a state dict.
            prefix (str): Key prefix of this component in the state dict (e.g. ``'lm.'``).
            **overrides: Constructor arguments that replace the recorded ones (e.g.
                ``pretrained=DIR`` when the source moved, ``quantization=None`` to score in
                full precision).
        """
        if not isinstance(checkpoint, dict):
            from vtt.utils.compat import safe_torch_load
            checkpoint = safe_torch_load(checkpoint)
        state = checkpoint.get('state_dict', checkpoint)
        record = _decode_record(state.get(prefix + '_extra_state'))
        if record is None or 'init' not in record:
            raise ValueError(f'no HFCausalLM record under {prefix + "_extra_state"!r}; pass the '
                             'prefix of the component in this checkpoint')
        init = dict(record['init'])
        init.update(overrides)
        model = cls(**init)
        model.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                               if k.startswith(prefix)})
        return model


class _eval_mode:
    """Run a block with the component in eval mode (no LoRA dropout), then restore it."""

    def __init__(self, module: HFCausalLM):
        self.module = module

    def __enter__(self):
        self.training = self.module.training
        self.module.train(False)

    def __exit__(self, *exc):
        self.module.train(self.training)


def _keep_trainable_weights(module: HFCausalLM, state_dict, prefix, local_metadata):
    if module._saved_names is None:
        return state_dict
    base = prefix + 'model.'
    keep = {base + name for name in module._saved_names}
    for key in [k for k in state_dict if k.startswith(base) and k not in keep]:
        del state_dict[key]
    return state_dict


def _check_base_record(module: HFCausalLM, state_dict, prefix, local_metadata, strict,
                       missing_keys, unexpected_keys, error_msgs):
    module._load_prefix = None
    record = _decode_record(state_dict.get(prefix + '_extra_state'))
    if record is None or record.get('base_saved', True):
        return  # a self-contained state dict (or one without a record)
    module._load_prefix = prefix
    recorded, current = record.get('weights_sha256'), module.base_weights_sha256
    where = prefix.rstrip('.') or 'the model'
    if recorded and current and recorded != current:
        raise PretrainedWeightsMismatchError(
            f'{where}: the checkpoint holds LoRA adapters trained on the base model '
            f'{record.get("pretrained")!r} (weight files SHA-256 {recorded[:16]}...), but the '
            f'base loaded now from {module.pretrained!r} hashes to {current[:16]}...; the '
            f'adapters only fit the former. Point {module.config_key} at the same weights as '
            'in training.')
    if not (recorded and current):
        warnings.warn(f'{where}: cannot check that the base model is the one the adapters were '
                      f'trained on (no weight files found for {record.get("pretrained")!r} or '
                      f'{module.pretrained!r}); loading the adapters anyway.')


def _ignore_missing_base(module: HFCausalLM, incompatible_keys):
    # The frozen base is not in adapter-only checkpoints; it was just loaded from the source.
    prefix = module._load_prefix
    if prefix is None or module._saved_names is None:
        return
    base = prefix + 'model.'
    keep = {base + name for name in module._saved_names}
    incompatible_keys.missing_keys[:] = [
        key for key in incompatible_keys.missing_keys
        if not key.startswith(base) or key in keep
    ]
