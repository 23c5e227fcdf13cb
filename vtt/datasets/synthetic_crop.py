import os

from vtt.registry import DATASETS

from .csv_timeseries import CSVRegressionDataset, CSVTimeSeriesDataset
from .synthetic import write_crop_phenology_csv, write_crop_yield_csv


@DATASETS.register_module()
class SyntheticCropDataset(CSVTimeSeriesDataset):
    """The SYNTHETIC 2018four-shaped demo data, read through the CSV contract.

    If ``data_file`` does not exist it is generated with
    :func:`vtt.datasets.synthetic.generate_crop_phenology` (deterministic for ``seed``) and
    written atomically; then it is loaded exactly like a user's ``2018four.csv``.

    Args:
        data_file (str): Where the generated CSV lives.
        seed (int): Generator seed. Defaults to 2018.
        **kwargs: Everything :class:`CSVTimeSeriesDataset` takes (``split``, ``num_steps`` ...).
    """

    def __init__(self, data_file: str, seed: int = 2018, **kwargs):
        self.seed = seed
        kwargs.setdefault('id_column', 'sample_id')
        super().__init__(data_file=data_file, **kwargs)

    def _prepare_file(self) -> None:
        if not os.path.isfile(self.data_file):
            write_crop_phenology_csv(self.data_file, seed=self.seed)


@DATASETS.register_module()
class SyntheticYieldDataset(CSVRegressionDataset):
    """The SYNTHETIC yield demo (TimesCLIP regression), read through the CSV contract.

    If ``data_file`` does not exist it is generated with
    :func:`vtt.datasets.synthetic.generate_crop_yield` (2000 crop curves of the 2018four schema
    with a ``yield`` that depends mostly on the early season; deterministic for ``seed``) and
    written atomically; then it is loaded like a user's CSV with a ``yield`` column.

    Args:
        data_file (str): Where the generated CSV lives.
        seed (int): Generator seed. Defaults to 2018.
        **kwargs: Everything :class:`CSVRegressionDataset` takes (``split``, ``num_steps`` ...).
    """

    def __init__(self, data_file: str, seed: int = 2018, **kwargs):
        self.seed = seed
        kwargs.setdefault('id_column', 'sample_id')
        super().__init__(data_file=data_file, **kwargs)

    def _prepare_file(self) -> None:
        if not os.path.isfile(self.data_file):
            write_crop_yield_csv(self.data_file, seed=self.seed)
