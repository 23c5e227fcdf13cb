from vtt.utils.errors import DataFormatError

from .base import (
                   BaseTimeSeriesDataset,
                   encode_labels,
                   load_once,
                   sort_class_labels,
                   stratified_split,
)
from .csv_timeseries import CSVRegressionDataset, CSVTimeSeriesDataset, load_timeseries_csv
from .furnace import FurnaceDataset, load_furnace_npz
from .hapt import HAPTHARDataset, HAPTPairedDataset, hapt_uci_windows, load_hapt_arrays
from .meteo_charts import (
                   MeteoChartDataset,
                   MeteoVocabulary,
                   SyntheticMeteoChartDataset,
                   load_meteo_annotations,
                   split_meteo_records,
)
from .meteo_products import MeteoProductDataset, load_detected_elements, product_collate
from .paired import PairedModalitiesMixin, PairedUEADataset
from .samplers import ClassBalancedSampler
from .synthetic_crop import SyntheticCropDataset, SyntheticYieldDataset
from .transforms import (
                   ChartTitle,
                   JpegCompress,
                   LogoWatermark,
                   RandomAreaCrop,
                   TorchVisionTransform,
)
from .tstcc import HARPtDataset, TSTCCDataset, load_pt_split
from .ucr import UCRDataset, load_ucr_tsv
from .uea import UEADataset, bundled_uea_names, load_ts_file

__all__ = [
    'BaseTimeSeriesDataset', 'CSVTimeSeriesDataset', 'CSVRegressionDataset',
    'SyntheticCropDataset', 'SyntheticYieldDataset', 'UEADataset',
    'UCRDataset', 'load_ucr_tsv',
    'TSTCCDataset', 'HARPtDataset', 'DataFormatError', 'load_once', 'sort_class_labels',
    'encode_labels', 'stratified_split', 'load_timeseries_csv', 'load_ts_file', 'load_pt_split',
    'bundled_uea_names', 'HAPTHARDataset', 'HAPTPairedDataset', 'load_hapt_arrays',
    'hapt_uci_windows', 'MeteoChartDataset', 'MeteoVocabulary', 'SyntheticMeteoChartDataset',
    'load_meteo_annotations', 'MeteoProductDataset', 'load_detected_elements', 'product_collate',
    'split_meteo_records', 'LogoWatermark', 'ChartTitle', 'JpegCompress', 'RandomAreaCrop',
    'TorchVisionTransform', 'ClassBalancedSampler', 'PairedModalitiesMixin', 'PairedUEADataset',
    'FurnaceDataset', 'load_furnace_npz'
]
