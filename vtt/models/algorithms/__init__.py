from .base import BaseAlgorithm
from .cmg import CMGCrossModalClassifier, CMGPretrainer
from .image_classifier import ImageClassifier
from .product_classifier import ChartProductClassifier
from .timemae import TimeMAEPretrainer
from .timemae_classifier import TimeMAEClassifier
from .timesclip import TimesCLIP, TimesCLIPClassifier, TimesCLIPRegressor

__all__ = ['BaseAlgorithm', 'ImageClassifier', 'TimesCLIP', 'TimesCLIPClassifier',
           'TimesCLIPRegressor', 'TimeMAEPretrainer', 'TimeMAEClassifier', 'CMGPretrainer',
           'CMGCrossModalClassifier', 'ChartProductClassifier']
