from .accuracy_scatter import plot_accuracy_scatter
from .confusion_matrix import plot_confusion_matrix

__all__ = ['plot_confusion_matrix', 'plot_accuracy_scatter']
