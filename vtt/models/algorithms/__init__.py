from .base import BaseAlgorithm
from .timemae import TimeMAEPretrainer
from .timemae_classifier import TimeMAEClassifier
from .timesclip import TimesCLIPClassifier

__all__ = ['BaseAlgorithm', 'TimesCLIPClassifier', 'TimeMAEPretrainer', 'TimeMAEClassifier']
