from .base import BaseAlgorithm
from .image_classifier import ImageClassifier
from .timemae import TimeMAEPretrainer
from .timemae_classifier import TimeMAEClassifier
from .timesclip import TimesCLIPClassifier

__all__ = ['BaseAlgorithm', 'ImageClassifier', 'TimesCLIPClassifier', 'TimeMAEPretrainer',
           'TimeMAEClassifier']
