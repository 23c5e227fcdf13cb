"""Deterministic synthetic data generators (clearly SYNTHETIC stand-ins for private data)."""
from .crop_phenology import (
    CLASS_SIZES,
    VARIATES,
    YIELD_CLASS_SIZES,
    generate_crop_phenology,
    generate_crop_yield,
    write_crop_phenology_csv,
    write_crop_yield_csv,
)
from .furnace import FURNACE_ARRAYS, generate_furnace, write_furnace_npz
from .meteo_charts import ELEMENTS, PRODUCTS, write_meteo_charts

__all__ = ['generate_crop_phenology', 'write_crop_phenology_csv', 'generate_crop_yield',
           'write_crop_yield_csv', 'VARIATES', 'CLASS_SIZES', 'YIELD_CLASS_SIZES',
           'write_meteo_charts', 'ELEMENTS', 'PRODUCTS', 'FURNACE_ARRAYS', 'generate_furnace',
           'write_furnace_npz']
