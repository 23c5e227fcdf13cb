from .feature_cache import FrozenFeatureCache
from .predictions import classification_predictions

__all__ = ['FrozenFeatureCache', 'classification_predictions']
