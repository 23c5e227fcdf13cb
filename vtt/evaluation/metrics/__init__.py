from .binary import BinaryClsMetric, best_f1_threshold, equal_error_rate
from .single_label import SingleLabelMetric

__all__ = ['SingleLabelMetric', 'BinaryClsMetric', 'best_f1_threshold', 'equal_error_rate']
