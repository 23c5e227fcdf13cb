from .inference import init_model, predict_series
from .train import test_best_checkpoint

__all__ = ['init_model', 'predict_series', 'test_best_checkpoint']
