from .algorithms import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .decoders import *  # noqa: F401,F403
from .encoders import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .language_models import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .renderers import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
from .utils import StrictPretrainedInit, XavierLinearInit  # noqa: F401  (registers them)
