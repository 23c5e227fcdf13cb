"""Rich tables of metrics for the end of training / testing."""
import numbers
from typing import Mapping, Optional

__all__ = ['print_metrics', 'scalar_metrics']


def scalar_metrics(metrics: Mapping) -> dict:
    """The scalar entries of a metrics dict, as plain floats."""
    out = {}
    for key, value in metrics.items():
        if hasattr(value, 'item') and getattr(value, 'ndim', 1) == 0:
            value = value.item()
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def print_metrics(metrics: Mapping, title: str = 'Metrics', console=None,
                  classes: Optional[list] = None) -> None:
    """Print scalar metrics as a table and any confusion matrix as a second table."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=title)
    table.add_column('metric')
    table.add_column('value', justify='right')
    for key, value in scalar_metrics(metrics).items():
        table.add_row(key, f'{value:.4f}')
    console.print(table)
    for key, value in metrics.items():
        if key.endswith('confusion_matrix'):
            n = len(value)
            names = [str(c) for c in (classes if classes and len(classes) == n else range(n))]
            matrix = Table(title=f'{key} (rows: true, columns: predicted)')
            matrix.add_column('true \\ pred')
            for name in names:
                matrix.add_column(name, justify='right')
            for name, row in zip(names, value):
                matrix.add_row(name, *[str(int(x)) for x in row])
            console.print(matrix)


def parameter_counts(model) -> dict:
    """Total and trainable parameter counts of a model."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return dict(total=total, trainable=trainable)
