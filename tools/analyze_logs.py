"""Analyze the JSON scalar logs that mmengine training writes (mmpretrain-compatible).

Plot training / validation curves of one or more runs::

    python tools/analyze_logs.py plot_curve LOG [LOG ...] --keys loss cls/macro_f1 \\
        [--legend NAME ...] [--title TITLE] [--out curves.png|curves.pdf] \\
        [--style whitegrid] [--window N] [--window-size 12*7] [--backend BACKEND]

Time per training iteration::

    python tools/analyze_logs.py cal_train_time LOG [LOG ...] [--include-outliers]

A LOG is any of

* a ``scalars.json`` file (one JSON object per line, as written to
  ``<work_dir>/<timestamp>/vis_data/scalars.json``; ``vis_data/<timestamp>.json`` works too),
* a ``<timestamp>`` directory (or its ``vis_data`` directory): that one run,
* a work dir: all its ``*/vis_data/scalars.json`` in time order, so a run resumed with
  ``--resume`` reads as one run. Where a later run repeats steps of an earlier one (resumed
  from an older checkpoint, or started again from scratch) the later records win.

Lines with ``lr``, ``iter`` or ``epoch`` are training records, all others validation records
(``step`` is then the epoch for epoch-based training). Training curves are drawn against
fractional epochs (or iterations for iteration-based training), validation curves against
epochs, one subplot per key. A key may be given by its full name (``cls/macro_f1``), by its
last part when that is unambiguous (``macro_f1``), and with ``train:`` or ``val:`` in front to
pick the phase of a key that both have (``time`` alone means the training ``time``).

``plot_curve`` writes PNG or PDF by the extension of ``--out``. Without ``--out`` it shows the
figure when a display is available, and otherwise saves ``curve_<keys>.png`` next to the first
log. ``cal_train_time`` prints, per log, the slowest and fastest epoch, the std over epochs of
the mean iteration time and the mean iteration time, as plain lines (mmpretrain's wording) and
as a table. By default the first logged iteration of every epoch is left out of all of these:
it carries the data loader start-up and warm-up, not the steady training speed.

Errors in the input (a missing log, a key that the log does not have) print one ``error: ...``
line and exit with status 2; set ``VTT_DEBUG=1`` for the traceback.
"""
import argparse
import io
import json
import math
import os
import os.path as osp
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

# vtt's own package is light; vtt.utils pulls in torch, so it is imported only when a figure is
# actually written (see save_figure).
import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

SCALARS_FILE = 'scalars.json'
# mmengine names run directories by start time, so sorting the names sorts them in time.
TIMESTAMP_RE = re.compile(r'^\d{8}_\d{6}$')
# Bookkeeping fields of every record; they are the x axis, not curves.
INDEX_KEYS = ('step', 'epoch', 'iter')
PHASES = ('train', 'val')


class LogError(Exception):
    """A problem with the user's input: reported as one line, exit status 2."""


@dataclass
class RunLog:
    """The records of one LOG argument, split by phase and in step order."""
    source: str
    files: List[str]
    train: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)

    def keys(self, phase: Optional[str] = None) -> List[str]:
        """The plottable (numeric, non-index) keys of one phase, or of both."""
        records = getattr(self, phase) if phase else self.train + self.val
        return sorted({k for r in records for k, v in r.items()
                       if k not in INDEX_KEYS and _is_number(v)})

    @property
    def epoch_based(self) -> bool:
        return any('epoch' in r for r in self.train)

    @property
    def where(self) -> str:
        return ' + '.join(self.files)


# ---------------------------------------------------------------------------------------------
# Reading logs
# ---------------------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def find_scalar_files(path: str) -> List[str]:
    """The scalars file(s) that a LOG argument stands for, oldest run first."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise LogError(f'log not found: {path} (give a scalars.json file, a <timestamp> '
                       'directory or a work dir)')
    for candidate in (osp.join(path, SCALARS_FILE), osp.join(path, 'vis_data', SCALARS_FILE)):
        if osp.isfile(candidate):
            return [candidate]
    runs = sorted(d for d in os.listdir(path)
                  if osp.isfile(osp.join(path, d, 'vis_data', SCALARS_FILE)))
    if not runs:
        raise LogError(f'no {SCALARS_FILE} in {path} (looked for {SCALARS_FILE}, '
                       f'vis_data/{SCALARS_FILE} and */vis_data/{SCALARS_FILE})')
    if not all(TIMESTAMP_RE.match(d) for d in runs):
        # Not mmengine's naming: fall back to the order in which the runs wrote their logs.
        runs.sort(key=lambda d: osp.getmtime(osp.join(path, d, 'vis_data', SCALARS_FILE)))
    return [osp.join(path, d, 'vis_data', SCALARS_FILE) for d in runs]


def read_records(path: str) -> List[dict]:
    """The JSON objects of a JSON-lines file. A run killed mid-write can leave a broken last
    line, so broken lines are skipped with a warning rather than failing the whole log."""
    records = []
    with open(path, encoding='utf-8') as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                print(f'warning: {path}:{number}: not valid JSON, skipped', file=sys.stderr)
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def is_train_record(record: dict) -> bool:
    # mmpretrain's rule is "has lr"; validation records carry neither lr nor iter/epoch.
    return any(k in record for k in ('lr', 'iter', 'epoch'))


def _step(record: dict) -> float:
    return record.get('step', record.get('iter', -math.inf))


def split_phases(records: Sequence[dict]) -> Tuple[List[dict], List[dict]]:
    train = [r for r in records if is_train_record(r)]
    val = [r for r in records if not is_train_record(r)]
    return train, val


def merge_runs(runs: Sequence[Tuple[List[dict], List[dict]]]) -> Tuple[List[dict], List[dict]]:
    """Concatenate the (train, val) records of consecutive runs of one work dir.

    A resumed run starts again after its checkpoint, which can be earlier than the last record
    of the run before it (that one was interrupted mid-epoch), and a run started from scratch
    starts at step 1. Either way the later run's records replace the earlier ones from its
    first step on, so every step appears once.
    """
    train: List[dict] = []
    val: List[dict] = []
    for run_train, run_val in runs:
        train_cut = min((_step(r) for r in run_train), default=math.inf)
        val_cut = min((_step(r) for r in run_val), default=math.inf)
        # In epoch-based training validation steps are epochs: a run whose training starts at
        # epoch E also replaces the earlier validation of epochs >= E, even before its own.
        epochs = [r['epoch'] for r in run_train if 'epoch' in r]
        if epochs:
            val_cut = min(val_cut, min(epochs))
        train = [r for r in train if _step(r) < train_cut] + run_train
        val = [r for r in val if _step(r) < val_cut] + run_val
    return sorted(train, key=_step), sorted(val, key=_step)


def load_log(source: str) -> RunLog:
    files = find_scalar_files(source)
    train, val = merge_runs([split_phases(read_records(f)) for f in files])
    log = RunLog(source=source, files=files, train=train, val=val)
    if not train and not val:
        raise LogError(f'no records in {log.where}')
    return log


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


class MissingKeysError(LogError):

    def __init__(self, log: RunLog, missing: Sequence[str]):
        names = ', '.join(repr(k) for k in missing)
        noun = 'key' if len(missing) == 1 else 'keys'
        super().__init__(f'{noun} {names} not found in {log.where}; '
                         f'available keys: {", ".join(log.keys()) or "(none)"}')


def resolve_key(log: RunLog, key: str) -> Optional[Tuple[str, str]]:
    """``(phase, full key name)`` for a requested key, or None when the log lacks it.

    The exact name wins; otherwise a unique match on the part after the last ``/`` (so
    ``macro_f1`` finds ``cls/macro_f1``). A key in both phases (``time``) means the training
    one unless written ``val:time``."""
    phases = PHASES
    if ':' in key and key.split(':', 1)[0] in PHASES:
        phase, key = key.split(':', 1)
        phases = (phase, )
    for phase in phases:
        if key in log.keys(phase):
            return phase, key
    matches = sorted({(phase, k) for phase in phases for k in log.keys(phase)
                      if k.rsplit('/', 1)[-1] == key})
    names = sorted({k for _, k in matches})
    if len(names) > 1:
        raise LogError(f'key {key!r} is ambiguous in {log.where}: it could be '
                       f'{", ".join(names)}; give the full name')
    if names:
        phase = 'train' if ('train', names[0]) in matches else matches[0][0]
        return phase, names[0]
    return None


def resolve_keys(log: RunLog, keys: Sequence[str]) -> List[Tuple[str, str]]:
    resolved = [resolve_key(log, key) for key in keys]
    missing = [key for key, found in zip(keys, resolved) if found is None]
    if missing:
        raise MissingKeysError(log, missing)
    return resolved


# ---------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------


def iters_per_epoch(train: Sequence[dict]) -> Optional[float]:
    """Iterations per epoch, from where consecutive epochs start logging.

    mmengine logs every ``interval`` iterations counted from the start of each epoch, so the
    first record of epoch e+1 is exactly one epoch of iterations after that of epoch e. With a
    single epoch there is nothing to compare, and the last step / epoch (mmpretrain's estimate)
    has to do."""
    first: Dict[int, float] = {}
    for record in train:
        if 'epoch' in record:
            first.setdefault(record['epoch'], _step(record))
    gaps = [first[e + 1] - first[e] for e in first if e + 1 in first]
    if gaps:
        return float(np.median(gaps))
    if first:
        last = max((r for r in train if 'epoch' in r), key=_step)
        return _step(last) / last['epoch']
    return None


def curve(log: RunLog, phase: str, key: str) -> Tuple[np.ndarray, np.ndarray, str]:
    """x, y and the x unit of one key: training by (fractional) epoch or iteration,
    validation by epoch (its step) in epoch-based training."""
    records = [r for r in getattr(log, phase) if _is_number(r.get(key))]
    xs = np.array([_step(r) for r in records], dtype=float)
    ys = np.array([r[key] for r in records], dtype=float)
    if not log.epoch_based:
        return xs, ys, 'iter'
    if phase == 'train':
        xs = xs / iters_per_epoch(log.train)
    return xs, ys, 'epoch'


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` points; the first points average what there is so far, so
    the smoothed curve starts where the raw one does."""
    if window <= 1 or len(values) == 0:
        return values
    sums = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def default_label(source: str) -> str:
    """A short run name: the work dir, or ``<work dir>/<timestamp>`` for one run of it."""
    path = osp.normpath(osp.abspath(source))
    if osp.isfile(path):
        path = osp.dirname(path)
        if osp.basename(path) == 'vis_data':
            path = osp.dirname(path)
    name = osp.basename(path)
    if TIMESTAMP_RE.match(name):
        return f'{osp.basename(osp.dirname(path))}/{name}'
    return name


def curve_labels(logs: Sequence[RunLog], keys: Sequence[str],
                 legend: Optional[Sequence[str]]) -> List[List[str]]:
    """labels[i][j] for log i and key j. ``--legend`` takes one name per log, or (like
    mmpretrain) one per log and key, log by log."""
    n_logs, n_keys = len(logs), len(keys)
    if legend is None:
        names = [default_label(log.source) for log in logs]
        if len(set(names)) < len(names):  # e.g. two runs of one work dir
            names = [log.source for log in logs]
        return [[name] * n_keys for name in names]
    if len(legend) == n_logs:
        return [[name] * n_keys for name in legend]
    if len(legend) == n_logs * n_keys:
        return [list(legend[i * n_keys:(i + 1) * n_keys]) for i in range(n_logs)]
    raise LogError(f'--legend got {len(legend)} names; give one per log ({n_logs}) or one per '
                   f'log and key ({n_logs * n_keys})')


def parse_window_size(text: Optional[str], n_keys: int) -> Tuple[float, float]:
    if text is None:
        # Room for each subplot to stay readable however many keys there are.
        return 12.0, max(4.5, 3.5 * n_keys)
    match = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*\*\s*(\d+(?:\.\d+)?)\s*', text)
    if not match:
        raise LogError(f"--window-size must look like W*H (inches), e.g. 12*7, not {text!r}")
    return float(match.group(1)), float(match.group(2))


def style_context(style: Optional[str]):
    """A matplotlib style context. Seaborn style names (mmpretrain's default ``whitegrid``)
    map to matplotlib's bundled copies, so seaborn itself is not needed."""
    import contextlib

    import matplotlib.pyplot as plt
    if not style or style == 'none':
        return contextlib.nullcontext()
    for name in (style, f'seaborn-v0_8-{style}'):
        if name in plt.style.available:
            return plt.style.context(name)
    print(f'warning: unknown matplotlib style {style!r}, using the default style',
          file=sys.stderr)
    return contextlib.nullcontext()


def draw_curve(ax, xs, ys, *, phase: str, color, label: str, window: int) -> None:
    if phase == 'val':
        # One point per evaluation, drawn as is: markers show where the evaluations were, and
        # smoothing would hide the values that checkpoints are picked by.
        ax.plot(xs, ys, color=color, linewidth=1.3, marker='o', markersize=3.5, label=label)
    elif window > 1 and len(ys) > 1:
        ax.plot(xs, ys, color=color, linewidth=0.75, alpha=0.3)
        ax.plot(xs, moving_average(ys, window), color=color, linewidth=1.6, label=label)
    else:
        ax.plot(xs, ys, color=color, linewidth=1.3, label=label)


def plot_curves(logs: Sequence[RunLog], keys: Sequence[str], labels: Sequence[Sequence[str]],
                title: Optional[str] = None, window: int = 1,
                figsize: Tuple[float, float] = (12, 7)):
    """One subplot per key, one coloured line per log (the same colour in every subplot)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    resolved = [resolve_keys(log, keys) for log in logs]
    curves = [[curve(log, *resolved[i][j]) for j in range(len(keys))]
              for i, log in enumerate(logs)]
    units = {c[2] for per_log in curves for c in per_log}
    fig, axes = plt.subplots(len(keys), 1, figsize=figsize, squeeze=False,
                             sharex=len(units) == 1)
    colors = plt.rcParams['axes.prop_cycle'].by_key().get('color', ['C0'])
    for j in range(len(keys)):
        ax = axes[j][0]
        for i, log in enumerate(logs):
            phase, name = resolved[i][j]
            xs, ys, unit = curves[i][j]
            print(f'plot curve of {log.source}, metric is {name} ({phase})')
            draw_curve(ax, xs, ys, phase=phase, color=colors[i % len(colors)],
                       label=labels[i][j], window=window)
        phase, name = resolved[0][j]
        ax.set_title(f'{name} ({phase})', fontsize='medium')
        ax.set_ylabel(name)
        ax.legend(fontsize='small')
        ax.set_xlabel(' / '.join(sorted({curves[i][j][2] for i in range(len(logs))})))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs / iterations
    if len(units) == 1:
        for ax in axes[:-1, 0]:
            ax.set_xlabel('')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_format(path: str) -> str:
    """The matplotlib format named by the extension of ``path``."""
    from matplotlib.backend_bases import FigureCanvasBase

    fmt = osp.splitext(path)[1].lstrip('.').lower()
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise LogError(f'cannot tell the image format of {path!r}: end it with .png or .pdf '
                       f'(or one of {", ".join(sorted(supported))})')
    return fmt


def save_figure(fig, path: str) -> None:
    """Write the figure in the format its extension names, atomically: a viewer or a second
    process never sees half a file."""
    from vtt.utils.io import atomic_write_bytes

    fmt = image_format(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    atomic_write_bytes(buffer.getvalue(), path)


def default_out_path(source: str, keys: Sequence[str]) -> str:
    directory = source if osp.isdir(source) else osp.dirname(source)
    stem = '_'.join(re.sub(r'[^A-Za-z0-9.-]+', '_', k).strip('_') for k in keys)
    return osp.join(directory, f'curve_{stem}.png')


def display_available() -> bool:
    return bool(os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY'))


def backend_is_interactive() -> bool:
    import matplotlib
    backend = matplotlib.get_backend().lower()
    try:
        from matplotlib.backends import BackendFilter, backend_registry
        interactive = backend_registry.list_builtin(BackendFilter.INTERACTIVE)
    except ImportError:  # matplotlib < 3.9
        from matplotlib.rcsetup import interactive_bk as interactive
    return backend in {name.lower() for name in interactive}


def select_backend(args) -> bool:
    """Pick the matplotlib backend before pyplot is imported; True when the figure will be
    shown rather than saved."""
    import matplotlib
    if args.out or not display_available():
        matplotlib.use('Agg')
        return False
    if args.backend:
        matplotlib.use(args.backend)
    if backend_is_interactive():
        return True
    matplotlib.use('Agg')
    return False


def cmd_plot_curve(args) -> None:
    if args.out:
        image_format(args.out)  # a bad --out fails before the logs are read
    logs = [load_log(source) for source in args.json_logs]
    for log in logs:  # fail on every missing key before drawing anything
        resolve_keys(log, args.keys)
    labels = curve_labels(logs, args.keys, args.legend)
    figsize = parse_window_size(args.window_size, len(args.keys))
    if args.window < 1:
        raise LogError(f'--window must be at least 1, not {args.window}')
    show = select_backend(args)
    import matplotlib.pyplot as plt

    with style_context(args.style):
        fig = plot_curves(logs, args.keys, labels, title=args.title, window=args.window,
                          figsize=figsize)
        if show:
            plt.show()
        else:
            out = args.out or default_out_path(args.json_logs[0], args.keys)
            save_figure(fig, out)
            print(f'save curve to: {out}')
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Train time
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainTime:
    epoch_means: Dict[int, float]  # mean logged iteration time of each epoch
    mean: float  # over all counted records
    count: int  # records counted

    @property
    def slowest(self) -> Tuple[int, float]:
        return max(self.epoch_means.items(), key=lambda item: item[1])

    @property
    def fastest(self) -> Tuple[int, float]:
        return min(self.epoch_means.items(), key=lambda item: item[1])

    @property
    def std(self) -> float:
        # Population std, as mmpretrain (numpy's default).
        return float(np.std(list(self.epoch_means.values())))


def train_time(log: RunLog, include_outliers: bool = False) -> TrainTime:
    """Iteration-time statistics of the training records that have ``time``."""
    records = [r for r in log.train if _is_number(r.get('time'))]
    if not records:
        raise MissingKeysError(log, ['time'])
    groups: Dict[Optional[int], List[float]] = {}
    for record in records:
        groups.setdefault(record.get('epoch'), []).append(float(record['time']))
    if not include_outliers:
        # The first logged iteration of an epoch includes starting the data loader workers
        # (and, in epoch 1, warm-up); an epoch logged only once keeps its one value.
        groups = {e: times[1:] if len(times) > 1 else times for e, times in groups.items()}
    counted = [t for times in groups.values() for t in times]
    epoch_means = {e: float(np.mean(times)) for e, times in groups.items() if e is not None}
    return TrainTime(epoch_means=epoch_means, mean=float(np.mean(counted)), count=len(counted))


def print_train_time(source: str, stats: TrainTime) -> None:
    print(f'{"-" * 5}Analyze train time of {source}{"-" * 5}')
    if stats.epoch_means:
        print(f'slowest epoch {stats.slowest[0]}, average time is {stats.slowest[1]:.4f}')
        print(f'fastest epoch {stats.fastest[0]}, average time is {stats.fastest[1]:.4f}')
        print(f'time std over epochs is {stats.std:.4f}')
    print(f'average iter time: {stats.mean:.4f} s/iter')
    print()


def train_time_table(rows: Sequence[Tuple[str, TrainTime]], include_outliers: bool):
    from rich.table import Table

    caption = ('slowest / fastest: epoch (its mean); std over epochs; mean over iterations; '
               'all in s/iter; ' + ('all logged iterations counted' if include_outliers else
                                    'first logged iteration of each epoch left out'))
    table = Table(title='Train time', caption=caption)
    # Long paths fold onto more lines instead of being cut: the log column is the row's name.
    table.add_column('log', overflow='fold', ratio=1)
    for name in ('slowest', 'fastest', 'std', 'mean', 'iters'):
        table.add_column(name, justify='right', no_wrap=True)
    for source, stats in rows:
        by_epoch = bool(stats.epoch_means)
        table.add_row(
            source,
            f'{stats.slowest[0]} ({stats.slowest[1]:.4f})' if by_epoch else '-',
            f'{stats.fastest[0]} ({stats.fastest[1]:.4f})' if by_epoch else '-',
            f'{stats.std:.4f}' if by_epoch else '-',
            f'{stats.mean:.4f}', str(stats.count))
    return table


def cmd_cal_train_time(args) -> None:
    from rich.console import Console

    rows = []
    for source in args.json_logs:
        stats = train_time(load_log(source), args.include_outliers)
        print_train_time(source, stats)
        rows.append((source, stats))
    Console().print(train_time_table(rows, args.include_outliers))


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Analyze the JSON scalar logs of training runs',
        epilog='LOG: a scalars.json file, a <timestamp> directory or a work dir.')
    tasks = parser.add_subparsers(dest='task', required=True)

    plot = tasks.add_parser('plot_curve', help='plot curves of logged keys')
    plot.add_argument('json_logs', nargs='+', metavar='LOG', help='log(s) to plot')
    plot.add_argument('--keys', nargs='+', default=['loss'],
                      help='keys to plot, one subplot each (default: loss); e.g. loss '
                      'cls/macro_f1, macro_f1, val:time')
    plot.add_argument('--legend', nargs='+', default=None,
                      help='curve names: one per log, or one per log and key')
    plot.add_argument('--title', help='title of the figure')
    plot.add_argument('--out', help='output file, .png or .pdf (default: show the figure, or '
                      'without a display save <log dir>/curve_<keys>.png)')
    plot.add_argument('--style', default='whitegrid',
                      help='matplotlib (or seaborn-named) style, "none" for matplotlib\'s '
                      'default (default: whitegrid)')
    plot.add_argument('--window', type=int, default=1,
                      help='smooth training curves with a trailing mean over N points '
                      '(default: 1, no smoothing); the raw curve stays, faint')
    plot.add_argument('--window-size', default=None,
                      help='figure size W*H in inches (default: 12 wide, 3.5 high per key)')
    plot.add_argument('--backend', help='matplotlib backend for showing the figure')

    time = tasks.add_parser('cal_train_time', help='time per training iteration')
    time.add_argument('json_logs', nargs='+', metavar='LOG', help='log(s) to analyze')
    time.add_argument('--include-outliers', action='store_true',
                      help='count the first logged iteration of every epoch as well')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    command = {'plot_curve': cmd_plot_curve, 'cal_train_time': cmd_cal_train_time}[args.task]
    try:
        command(args)
    except (LogError, OSError) as error:
        if os.environ.get('VTT_DEBUG'):
            raise
        print(f'error: {error}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
