from .inference import init_model, predict_series

__all__ = ['init_model', 'predict_series']
