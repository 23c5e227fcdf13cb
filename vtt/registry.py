"""vtt's registries: children of mmengine's root registries.

Every component in vtt registers itself in one of these with ``@MODELS.register_module()``
(etc.). Configs select components by ``type='Name'`` with ``default_scope = 'vtt'``. Because each
registry names the package that defines its members (``locations``), building a ``type`` that has
not been imported yet imports that package first, so ``MODELS.build(cfg)`` works without an
explicit ``import vtt.models``. A third-party package registers into the same registries and is
pulled in by a config's ``custom_imports = dict(imports=['their_pkg'])``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
    'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'METRICS', 'EVALUATORS', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS'
]

# Engine
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['vtt.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['vtt.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['vtt.engine'])
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS, locations=['vtt.engine'])
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, locations=['vtt.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['vtt.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['vtt.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['vtt.engine'])

# Data
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['vtt.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['vtt.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, locations=['vtt.datasets'])

# Models
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['vtt.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['vtt.models'])
# ``init_cfg=dict(type=...)`` initialisers; vtt's ``Pretrained`` replaces mmengine's in the vtt
# scope (same arguments, stricter and safer loading: see vtt.models.utils.weight_init).
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['vtt.models'])

# Evaluation
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['vtt.evaluation'])
EVALUATORS = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['vtt.evaluation'])

# Visualisation
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS,
                       locations=['vtt.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS,
                       locations=['vtt.visualization'])

FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['vtt.datasets'])
