from .binary_cls_head import BinaryClsHead
from .cls_head import ClsHead, LinearClsHead, MLPClsHead, build_loss
from .mlp_head import MLPHead

__all__ = ['BinaryClsHead', 'ClsHead', 'LinearClsHead', 'MLPClsHead', 'MLPHead', 'build_loss']
