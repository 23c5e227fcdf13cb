from .backbone_unfreeze_hook import BackboneUnfreezeHook
from .checkpoint_provenance_hook import CheckpointProvenanceHook
from .confusion_matrix_hook import ConfusionMatrixHook
from .dataset_epoch_hook import DatasetEpochHook
from .early_stopping_hook import ResumableEarlyStoppingHook
from .fault_point_hook import FaultPointHook
from .feature_cache_hook import FeatureCacheReportHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .progress_hook import RichProgressHook
from .rng_state_hook import RNGStateHook
from .teacher_forcing_hook import TeacherForcingHook
from .temperature_scaling_hook import TemperatureScalingHook
from .threshold_calibration_hook import ThresholdCalibrationHook
from .train_stats_hook import TrainStatsHook
from .visual_warmup_hook import VisualWarmupHook

__all__ = [
    'TrainStatsHook', 'RNGStateHook', 'ResumableEarlyStoppingHook', 'ConfusionMatrixHook',
    'RichProgressHook', 'BackboneUnfreezeHook', 'ThresholdCalibrationHook', 'TeacherForcingHook',
    'FeatureCacheReportHook', 'TemperatureScalingHook', 'NonFiniteLossHook',
    'CheckpointProvenanceHook', 'FaultPointHook', 'DatasetEpochHook', 'VisualWarmupHook'
]
