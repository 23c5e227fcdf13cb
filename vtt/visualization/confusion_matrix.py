from typing import Optional, Sequence

import numpy as np

from .figure_io import save_figure

__all__ = ['plot_confusion_matrix']


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], path: str,
                          class_names: Optional[Sequence[str]] = None,
                          title: str = 'Confusion matrix') -> str:
    """Save a confusion-matrix heat map (colour = row-normalised recall, text = counts) as PNG
    or PDF (by extension), written atomically. Returns ``path``."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    counts = np.asarray(matrix, dtype=np.int64)
    n = counts.shape[0]
    names = [str(c) for c in (class_names or range(n))]
    recall = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.6 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(recall, cmap='Blues', vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='fraction of true class')
    ax.set_xticks(range(n), names, rotation=45, ha='right')
    ax.set_yticks(range(n), names)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f'{counts[i, j]}\n{recall[i, j]:.0%}', ha='center', va='center',
                    fontsize=8, color='white' if recall[i, j] > 0.5 else 'black')
    return save_figure(fig, path)
