"""Pretrained language models (Hugging Face ``transformers``) as vtt components."""
from .causal_lm import (
    LM_ASSETS,
    HFCausalLM,
    PromptState,
    disable_cpu_weight_repacking,
    resolve_lm_weights,
    source_weights_sha256,
)

__all__ = [
    'HFCausalLM', 'PromptState', 'LM_ASSETS', 'resolve_lm_weights',
    'disable_cpu_weight_repacking', 'source_weights_sha256'
]
