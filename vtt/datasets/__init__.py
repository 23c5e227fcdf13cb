from .csv_timeseries import (CSVTimeSeriesDataset, DataFormatError, load_timeseries_csv,
                             stratified_split)
from .synthetic_crop import SyntheticCropDataset

__all__ = [
    'CSVTimeSeriesDataset', 'SyntheticCropDataset', 'DataFormatError', 'load_timeseries_csv',
    'stratified_split'
]
