from .timesclip import TimesCLIPClassifier

__all__ = ['TimesCLIPClassifier']
