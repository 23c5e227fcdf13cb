"""A tiny random multimodal Gemma 3 written to disk: the offline stand-in for Gemma 3 4B.

Tests and the offline product demo cannot download ``google/gemma-3-4b-it``. They run the SAME
code path on a directory this module writes: a random ``Gemma3ForConditionalGeneration`` (a
SigLIP vision tower, the multimodal projector and a Gemma 3 language model, all tiny), a
byte-level BPE tokenizer trained locally with ``tokenizers`` on the texts the model will see
(so prompts tokenise into a few hundred ids, never into unknowns), Gemma's special tokens
(``<bos>`` 2, ``<eos>`` 1, ``<pad>`` 0, turn and image markers) and a ``Gemma3Processor``
with Gemma's chat-template format. ``HFCausalLM(dir, model_class=
'Gemma3ForConditionalGeneration', quantization='nf4', ...)`` then loads it exactly like the
real model: ``from_pretrained``, 4-bit NF4 with the vision tower and ``lm_head`` kept in full
precision, LoRA on the language model.

::

    write_tiny_gemma3(path, corpus) -> path/{config.json, model.safetensors, tokenizer.json,
                                            tokenizer_config.json, processor_config.json,
                                            chat_template.jinja, ...}
"""
import os
import shutil
import tempfile
from typing import Iterable

from vtt.utils.errors import ConfigError

__all__ = ['GEMMA3_CHAT_TEMPLATE', 'GEMMA3_SPECIAL_TOKENS', 'write_tiny_gemma3']

#: Gemma's turn format (the 4B model's own template writes the same text): a system message is
#: folded into the first user turn, images become ``<start_of_image>`` (the processor expands it
#: into the image's soft tokens), every turn ends with ``<end_of_turn>``.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- set prefix = '' -%}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}"
    "{%- set prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- else -%}{%- set prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}{%- endif -%}"
    "{%- set messages = messages[1:] -%}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else 'user') + '\\n' }}"
    "{{ prefix if loop.first else '' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- else -%}{{ item['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}")

#: Gemma's ids for the first special tokens, then the turn and image markers.
GEMMA3_SPECIAL_TOKENS = ('<pad>', '<eos>', '<bos>', '<unk>', '<start_of_turn>', '<end_of_turn>',
                         '<start_of_image>', '<end_of_image>', '<image_soft_token>')


def _train_tokenizer(corpus: Iterable[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token='<unk>'))
    # byte level: every string tokenises (no unknowns), Chinese names included
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(
        GEMMA3_SPECIAL_TOKENS), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(list(corpus), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token='<bos>', eos_token='<eos>', pad_token='<pad>',
        unk_token='<unk>', padding_side='right', chat_template=GEMMA3_CHAT_TEMPLATE,
        extra_special_tokens=dict(boi_token='<start_of_image>', eoi_token='<end_of_image>',
                                  image_token='<image_soft_token>',
                                  start_of_turn_token='<start_of_turn>',
                                  end_of_turn_token='<end_of_turn>'))


def write_tiny_gemma3(path: str, corpus: Iterable[str], vocab_size: int = 1024,
                      hidden_size: int = 64, num_layers: int = 2, image_size: int = 64,
                      patch_size: int = 8, image_tokens: int = 16, seed: int = 0,
                      overwrite: bool = False, text_only: bool = False) -> str:
    """Write a tiny random ``Gemma3ForConditionalGeneration`` with its processor to ``path``
    (``text_only``: a ``Gemma3ForCausalLM`` with its tokenizer, like Gemma 3 270M).

    Written into a temporary sibling and renamed, so ``path`` is either absent or complete.

    Args:
        path (str): The directory to create.
        corpus: Texts to train the tokenizer on (prompts, element and product names).
        vocab_size (int): BPE vocabulary including the special and 256 byte tokens.
        hidden_size (int): Width of the language model (the vision tower uses the same).
        num_layers (int): Decoder layers (and vision layers).
        image_size (int): The processor's square input size.
        patch_size (int): Vision patch size; ``(image_size / patch_size)^2`` must be a
            multiple of ``image_tokens`` (the projector average-pools patches into tokens).
        image_tokens (int): Soft tokens per image (4B: 256).
        seed (int): Seed of the random weights.
        overwrite (bool): Replace an existing ``path``. Defaults to False (an error).
        text_only (bool): Write the language model alone. Defaults to False.

    Returns:
        str: ``path``.
    """
    import torch
    from transformers import (
        Gemma3Config,
        Gemma3ForCausalLM,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessor,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    patches = (image_size // patch_size)**2
    if image_size % patch_size or patches % image_tokens or int(
            (patches // image_tokens)**0.5)**2 != patches // image_tokens:
        raise ConfigError(f'image_size {image_size} / patch_size {patch_size} gives {patches} '
                          f'patches: it must be a square multiple of image_tokens '
                          f'{image_tokens} (the projector pools square blocks of patches)')
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f'{path} exists; delete it (or pass overwrite=True)')
    tokenizer = _train_tokenizer(corpus, vocab_size)
    heads = max(1, hidden_size // 32)
    text = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers, num_attention_heads=heads, num_key_value_heads=1,
        head_dim=32, max_position_embeddings=2048, sliding_window=512,
        layer_types=['sliding_attention'] * (num_layers - 1) + ['full_attention'],
        pad_token_id=0, eos_token_id=1, bos_token_id=2)
    torch.manual_seed(seed)
    if text_only:
        model, processor = Gemma3ForCausalLM(text), tokenizer
    else:
        vision = SiglipVisionConfig(hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                                    num_hidden_layers=num_layers, num_attention_heads=heads,
                                    image_size=image_size, patch_size=patch_size)
        ids = tokenizer.convert_tokens_to_ids
        model = Gemma3ForConditionalGeneration(Gemma3Config(
            text_config=text, vision_config=vision, mm_tokens_per_image=image_tokens,
            boi_token_index=ids('<start_of_image>'), eoi_token_index=ids('<end_of_image>'),
            image_token_index=ids('<image_soft_token>')))
        processor = Gemma3Processor(
            image_processor=Gemma3ImageProcessor(size=dict(height=image_size,
                                                           width=image_size)),
            tokenizer=tokenizer, chat_template=GEMMA3_CHAT_TEMPLATE,
            image_seq_length=image_tokens)
        # transformers initialises the image projection to ZERO (a trained model brings its
        # own): random weights would then ignore the image entirely. Give it a random one.
        projector = model.model.multi_modal_projector.mm_input_projection_weight
        with torch.no_grad():
            projector.normal_(0.0, hidden_size**-0.5)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{os.path.basename(path)}.', dir=parent)
    try:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def meteo_corpus() -> list:
    """Texts of the synthetic charts' product prompts: every element's id, names and aliases,
    every product's id, name and title, and the prompt's fixed phrases (the tokenizer is byte
    level, so other text still tokenises, only into more pieces)."""
    from vtt.datasets.synthetic.meteo_charts import ELEMENTS, PRODUCTS
    texts = ['You are a weather chart expert.', 'Detected elements: none detected.',
             'Candidate products: ', 'Choose the product that best matches the chart. Answer '
             'with the product name only.']
    for eid, (zh, en, aliases) in ELEMENTS.items():
        texts += [eid, zh, en, *aliases]
    for pid, (zh, title, _, _) in PRODUCTS.items():
        texts += [pid, zh, title]
    return texts * 4


def tiny_gemma3_meteo_dir() -> str:
    """The tiny random multimodal Gemma 3 of the offline product demo, written once into vtt's
    cache (``$VTT_CACHE_DIR``) with :func:`write_tiny_gemma3` (seed 0, 64 px images, 16 image
    tokens, a 1,024-token tokenizer trained on :func:`meteo_corpus`); deterministic."""
    from vtt.utils.assets import build_cached, cache_dir
    target = cache_dir('tiny_gemma3_meteo_v2')
    build_cached(target, lambda out: write_tiny_gemma3(str(out), meteo_corpus()),
                 'the tiny random Gemma 3 of the product demo')
    return str(target)
