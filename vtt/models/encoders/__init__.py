from .clip import CLIPTextEncoder, CLIPVisionEncoder, freeze_module
from .hf_pretrained import PretrainedWeightsNotFoundError, load_pretrained

__all__ = [
    'CLIPVisionEncoder', 'CLIPTextEncoder', 'freeze_module', 'PretrainedWeightsNotFoundError',
    'load_pretrained'
]
from .transformer import HFTransformerEncoder, TransformerEncoder
__all__ += ['TransformerEncoder', 'HFTransformerEncoder']
