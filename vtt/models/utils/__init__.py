from .feature_cache import FrozenFeatureCache

__all__ = ['FrozenFeatureCache']
