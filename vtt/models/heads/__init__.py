from .binary_cls_head import BinaryClsHead
from .cls_head import ClsHead, LinearClsHead, MLPClsHead, TemporalMaxClsHead, build_loss
from .cnn_rnn_head import CNNRNNLabelHead
from .mlp_head import MLPHead
from .regression_head import RegressionHead

__all__ = ['BinaryClsHead', 'ClsHead', 'CNNRNNLabelHead', 'LinearClsHead', 'MLPClsHead',
           'MLPHead', 'RegressionHead', 'TemporalMaxClsHead', 'build_loss']
