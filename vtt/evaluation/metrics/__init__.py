from .single_label import SingleLabelMetric

__all__ = ['SingleLabelMetric']
