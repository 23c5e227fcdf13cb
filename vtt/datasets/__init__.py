from .csv_timeseries import (CSVTimeSeriesDataset, DataFormatError, load_timeseries_csv,
                             stratified_split)
from .har import HARPtDataset
from .synthetic_crop import SyntheticCropDataset
from .uea import UEADataset, bundled_uea_names

__all__ = [
    'CSVTimeSeriesDataset', 'SyntheticCropDataset', 'DataFormatError', 'load_timeseries_csv',
    'stratified_split', 'UEADataset', 'bundled_uea_names', 'HARPtDataset'
]
