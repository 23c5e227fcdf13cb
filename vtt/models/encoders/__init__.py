from .clip import CLIPTextEncoder, CLIPVisionEncoder, clip_end_of_text_id
from .transformer import HFTransformerEncoder, TransformerBlock, TransformerEncoder
from .window_encoder import WindowEncoder

__all__ = [
    'CLIPVisionEncoder', 'CLIPTextEncoder', 'clip_end_of_text_id', 'TransformerBlock',
    'TransformerEncoder', 'HFTransformerEncoder', 'WindowEncoder'
]
