from .variate_selection import VariateSelection

__all__ = ['VariateSelection']
from .cross_attention import CrossAttentionDecoder
__all__ += ['CrossAttentionDecoder']
