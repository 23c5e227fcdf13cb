from .contrastive import InfoNCELoss, info_nce
from .focal import FocalLoss, balanced_class_weights

__all__ = ['FocalLoss', 'InfoNCELoss', 'info_nce', 'balanced_class_weights']
from .masked_modeling import MCCLoss, MRRLoss
__all__ += ['MCCLoss', 'MRRLoss']
