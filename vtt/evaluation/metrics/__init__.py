from .binary import BinaryClsMetric, best_f1_threshold, equal_error_rate
from .calibration import (
                          CandidateRankingMetric,
                          calibration_report,
                          candidate_probabilities,
                          expected_calibration_error,
                          fit_temperature,
                          top_k_accuracy,
)
from .multi_label import MultiLabelMetric, best_f1_thresholds
from .regression import RegressionMetric
from .single_label import SingleLabelMetric

__all__ = ['SingleLabelMetric', 'BinaryClsMetric', 'MultiLabelMetric', 'RegressionMetric',
           'CandidateRankingMetric', 'best_f1_threshold', 'best_f1_thresholds',
           'equal_error_rate', 'calibration_report', 'candidate_probabilities',
           'expected_calibration_error', 'fit_temperature', 'top_k_accuracy']
