from .codebook import GumbelCodebook, LinearCenterTokenizer
from .multimodal_codebook import (
    MultimodalEMAQuantizer,
    code_agreement,
    codebook_perplexity,
    dominant_codes,
)
from .numeric_patch import NumericPatchTokenizer
from .window_slicer import ConvWindowSlicer, WindowSlicer

__all__ = ['NumericPatchTokenizer', 'GumbelCodebook', 'LinearCenterTokenizer', 'WindowSlicer',
           'ConvWindowSlicer', 'MultimodalEMAQuantizer', 'code_agreement', 'codebook_perplexity',
           'dominant_codes']
