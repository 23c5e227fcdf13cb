"""Pretrained language models (Hugging Face ``transformers``) as vtt components."""
from .causal_lm import (
    LM_ASSETS,
    LM_GENERATED,
    HFCausalLM,
    PromptState,
    disable_cpu_weight_repacking,
    resolve_lm_weights,
    source_weights_sha256,
)
from .tiny_gemma3 import GEMMA3_CHAT_TEMPLATE, tiny_gemma3_meteo_dir, write_tiny_gemma3

__all__ = [
    'HFCausalLM', 'PromptState', 'LM_ASSETS', 'LM_GENERATED', 'resolve_lm_weights',
    'disable_cpu_weight_repacking', 'source_weights_sha256', 'GEMMA3_CHAT_TEMPLATE',
    'write_tiny_gemma3', 'tiny_gemma3_meteo_dir'
]
