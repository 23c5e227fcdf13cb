from .contrastive import CMCMLoss, CWCLLoss, InfoNCELoss, cwcl, info_nce
from .cross_entropy import CrossEntropyLoss
from .focal import BCEFocalLoss, FocalLoss, balanced_class_weights
from .masked_modeling import MCCLoss, MRRLoss
from .mutual_information import CLUBEstimator
from .predictive_coding import CrossCPCLoss
from .regression import MSELoss
from .triplet import CrossModalTripletLoss

__all__ = [
    'CrossEntropyLoss', 'FocalLoss', 'BCEFocalLoss', 'InfoNCELoss', 'MCCLoss', 'MRRLoss', 'MSELoss',
    'info_nce', 'balanced_class_weights', 'CWCLLoss', 'cwcl', 'CMCMLoss', 'CLUBEstimator',
    'CrossCPCLoss', 'CrossModalTripletLoss'
]
