import io

from vtt.utils.io import atomic_write_bytes

__all__ = ['save_figure']


def save_figure(fig, path: str, dpi: int = 120) -> str:
    """Lay out, save as PNG or PDF (by extension) atomically, and close a matplotlib figure.
    Returns ``path``."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.rsplit('.', 1)[-1].lower(), dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(buffer.getvalue(), path)
    return path
