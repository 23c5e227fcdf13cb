from typing import Dict

from .figure_io import save_figure

__all__ = ['plot_accuracy_scatter']


def plot_accuracy_scatter(baseline: Dict[str, float], method: Dict[str, float], path: str,
                          baseline_name: str = 'MiniRocket', method_name: str = 'TimeMAE',
                          band: float = 0.1) -> str:
    """The usual pairwise comparison of two classifiers over datasets: one point per dataset
    (``x`` = baseline accuracy, ``y`` = method accuracy), the diagonal, a ``±band`` strip and
    the datasets outside it named. PNG or PDF by extension, written atomically. Returns
    ``path``."""
    import matplotlib
    matplotlib.use('Agg', force=False)
    import matplotlib.pyplot as plt

    names = [n for n in baseline if n in method]
    if not names:
        raise ValueError('no dataset has results for both methods')
    x = [baseline[n] for n in names]
    y = [method[n] for n in names]
    low = max(0.0, min(x + y) - 0.05)
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([low, 1], [low, 1], color='black', lw=1)
    ax.fill_between([low, 1], [low - band, 1 - band], [low + band, 1 + band], color='0.9',
                    label=f'within ±{band:g}')
    ax.scatter(x, y, s=28, zorder=3)
    for n, a, b in zip(names, x, y):
        if abs(b - a) > 0.02:
            ax.annotate(n, (a, b), fontsize=7, xytext=(3, 3), textcoords='offset points')
    wins = sum(b > a for a, b in zip(x, y))
    losses = sum(b < a for a, b in zip(x, y))
    ax.set_xlim(low, 1.005)
    ax.set_ylim(low, 1.005)
    ax.set_aspect('equal')
    ax.set_xlabel(f'{baseline_name} test accuracy')
    ax.set_ylabel(f'{method_name} test accuracy')
    ax.set_title(f'{method_name} vs {baseline_name}: {wins} wins, {losses} losses, '
                 f'{len(names) - wins - losses} ties')
    ax.legend(loc='lower right')
    return save_figure(fig, path)
