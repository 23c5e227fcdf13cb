from .contrastive import InfoNCELoss, info_nce
from .cross_entropy import CrossEntropyLoss
from .focal import BCEFocalLoss, FocalLoss, balanced_class_weights
from .masked_modeling import MCCLoss, MRRLoss
from .regression import MSELoss

__all__ = [
    'CrossEntropyLoss', 'FocalLoss', 'BCEFocalLoss', 'InfoNCELoss', 'MCCLoss', 'MRRLoss', 'MSELoss',
    'info_nce', 'balanced_class_weights'
]
