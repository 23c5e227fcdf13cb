from .clip import CLIPTextEncoder, CLIPVisionEncoder, clip_end_of_text_id
from .hf_text import HFTextEncoder
from .mobilenet import MobileNetV2Encoder
from .semantic_encoders import SemanticEncoder, TemporalTransformer, VideoSemanticEncoder
from .specific_encoders import MapSpecificEncoder, ResidualStack, VectorSpecificEncoder
from .timm_encoder import TimmEncoder
from .transformer import (
    HFTransformerEncoder,
    TransformerBlock,
    TransformerEncoder,
    TransformerTextEncoder,
)
from .window_encoder import WindowEncoder

__all__ = [
    'CLIPVisionEncoder', 'CLIPTextEncoder', 'clip_end_of_text_id', 'HFTextEncoder',
    'MobileNetV2Encoder', 'SemanticEncoder', 'TemporalTransformer', 'VideoSemanticEncoder',
    'MapSpecificEncoder', 'ResidualStack', 'VectorSpecificEncoder', 'TimmEncoder',
    'TransformerBlock',
    'TransformerEncoder', 'TransformerTextEncoder', 'HFTransformerEncoder', 'WindowEncoder'
]
