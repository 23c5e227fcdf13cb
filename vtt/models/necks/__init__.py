from .cross_attention import CrossAttentionDecoder
from .variate_selection import VariateSelection

__all__ = ['VariateSelection', 'CrossAttentionDecoder']
