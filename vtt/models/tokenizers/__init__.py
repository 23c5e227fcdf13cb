from .codebook import GumbelCodebook, LinearCenterTokenizer
from .multimodal_codebook import (
    MultimodalEMAQuantizer,
    code_agreement,
    codebook_perplexity,
    dominant_codes,
    toc_channel_scores,
    toc_select_channels,
)
from .numeric_patch import NumericPatchTokenizer
from .window_slicer import ConvWindowSlicer, WindowSlicer

__all__ = ['NumericPatchTokenizer', 'GumbelCodebook', 'LinearCenterTokenizer', 'WindowSlicer',
           'ConvWindowSlicer', 'MultimodalEMAQuantizer', 'code_agreement', 'codebook_perplexity',
           'dominant_codes', 'toc_channel_scores', 'toc_select_channels']
