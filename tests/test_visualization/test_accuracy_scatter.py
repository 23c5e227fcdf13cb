"""The pairwise accuracy plot of the UCR suite."""
import pytest
from PIL import Image

from vtt.visualization import plot_accuracy_scatter


def test_scatter_writes_an_image_of_the_shared_datasets(tmp_path):
    path = str(tmp_path / 'scatter.png')
    out = plot_accuracy_scatter({'A': 0.9, 'B': 1.0, 'C': 0.5}, {'A': 0.95, 'B': 0.8}, path)
    assert out == path
    with Image.open(path) as image:
        assert image.size[0] > 300 and image.size[1] > 300
    assert not list(tmp_path.glob('*.tmp*'))  # written atomically, nothing left behind


def test_scatter_needs_a_shared_dataset(tmp_path):
    with pytest.raises(ValueError, match='both methods'):
        plot_accuracy_scatter({'A': 0.9}, {'B': 0.8}, str(tmp_path / 'x.png'))
