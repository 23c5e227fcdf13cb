from .inference import init_model, predict_series
from .meteo_cascade import MeteoCascade
from .timemae_recipe import TimeMAERecipe, derive_timemae_recipe, recipe_cfg_options
from .train import test_best_checkpoint

__all__ = ['init_model', 'predict_series', 'test_best_checkpoint', 'TimeMAERecipe',
           'derive_timemae_recipe', 'recipe_cfg_options', 'MeteoCascade']
