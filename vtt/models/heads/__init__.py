from .cls_head import ClsHead, LinearClsHead, MLPClsHead, build_loss
from .mlp_head import MLPHead

__all__ = ['ClsHead', 'LinearClsHead', 'MLPClsHead', 'MLPHead', 'build_loss']
