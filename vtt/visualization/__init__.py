from .confusion_matrix import plot_confusion_matrix

__all__ = ['plot_confusion_matrix']
