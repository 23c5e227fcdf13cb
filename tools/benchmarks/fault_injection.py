"""Fault-injection campaign: kill training anywhere and resume; fuzz every loader.

    python tools/benchmarks/fault_injection.py --budget 10

runs, for the given number of minutes:

* **kill / resume**: for each research line's tiny experiment (``vtt.testing.tiny_experiments``:
  TimesCLIP, TimeMAE pretraining with its EMA teacher, CMG pretraining with the codebook EMA
  and CLUB's optimizer, the meteo gate, elements and products stages) one uninterrupted
  reference run, then trials: ``tools/train.py`` is killed with SIGKILL, either after a random
  time (mid-epoch, during validation or test, during a checkpoint write: wherever it happens
  to be) or at a named fault point (half-way through writing a file, between writing a new
  best checkpoint and removing the old one, at the k-th validation iteration; see
  ``vtt.utils.faults``); then ``--resume`` (auto) runs, is possibly killed again, and finally
  finishes. A trial survives when every checkpoint left on disk loads, the final weights
  equal the reference run's (to float tolerance) and so do its test metrics (timings
  excepted).
* **fuzz**: between polls of the training process, ``vtt.testing.loader_fuzz`` mutates valid
  inputs of every loader and loads them; a failure is any outcome other than a correct load or
  vtt's user error naming the file.

It prints one line ``kills=N survived=N inputs_fuzzed=N failures=N`` (and the details of any
failure) and writes ``fault_injection.json`` in the work dir. All kills are real SIGKILLs of a
separate process; the campaign is deterministic given ``--seed`` except for where the
random-time kills land.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

#: Fault points a trial may arm (``name:k`` kills at the k-th time it is reached).
FAULT_POINTS = ('file.write', 'best.before_remove_previous', 'checkpoint.before_remove_outdated',
                'train.iter', 'val.iter', 'test.iter')
#: Metrics that measure time, not the model: not compared.
TIMING_WORDS = ('latency', 'per_s', 'time')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--budget', type=float, default=10.0, help='minutes (default 10)')
    parser.add_argument('--lines', nargs='+', default=None,
                        help='research lines to kill (default: all of '
                        'vtt.testing.tiny_experiments.TINY_LINES)')
    parser.add_argument('--max-kills-per-trial', type=int, default=4)
    parser.add_argument('--workers', type=int, default=2,
                        help='trials run side by side (each one single-threaded process)')
    parser.add_argument('--no-fuzz', action='store_true', help='only the kill campaign')
    parser.add_argument('--no-kill', action='store_true', help='only the fuzz campaign')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-zygote', action='store_true',
                        help='start every run as a fresh interpreter (slower start-up)')
    parser.add_argument('--zygote', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--work-dir', default=None,
                        help='where runs and the report go (default: a temporary directory)')
    return parser.parse_args(argv)


def train_command(config: str, work_dir: str, resume: bool) -> list:
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir]
    return cmd + (['--resume'] if resume else [])


def run_env(fault: str = None) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1',
               TRANSFORMERS_OFFLINE='1')
    env.pop('VTT_FAULT_POINT', None)
    if fault:
        env['VTT_FAULT_POINT'] = fault
    return env


class Zygote:
    """A process that has imported everything ``tools/train.py`` needs and forks one child
    per run, so a run starts in a second instead of paying Python's and torch's start-up (15
    to 30 s on a small CPU) and a 10-minute campaign fits dozens of kills. A child is a plain
    ``tools/train.py`` run (its ``main`` with the same argv and environment); it is killed with
    a real SIGKILL by its pid. The zygote itself never runs a model: it is forked before any
    torch operation. Disable with ``--no-zygote`` (every run is then a fresh interpreter)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, osp.abspath(__file__), '--zygote'], cwd=ROOT, env=run_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        if self.request(dict(op='ping')) != 'ready':
            raise RuntimeError('the zygote process did not start')

    def request(self, message: dict):
        with self.lock:
            self.process.stdin.write(json.dumps(message) + '\n')
            self.process.stdin.flush()
            return json.loads(self.process.stdout.readline())

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


class ForkedRun:
    """The part of ``subprocess.Popen`` the campaign uses, for a zygote's child."""

    def __init__(self, zygote: Zygote, argv: list, fault: str, log: str):
        self.zygote = zygote
        self.pid = zygote.request(dict(op='start', argv=argv, fault=fault, log=log))
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.zygote.request(dict(op='status', pid=self.pid))
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is None:
            os.kill(self.pid, sig)

    def wait(self):
        while self.poll() is None:
            time.sleep(0.02)
        return self.returncode


def zygote_main() -> None:
    """Serve ``start`` / ``status`` requests (JSON lines on stdin) until stdin closes."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('vtt_train_tool',
                                                  osp.join(ROOT, 'tools', 'train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    import mmengine.runner  # noqa: F401  (everything a run imports, before forking)

    from vtt.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    for line in sys.stdin:
        message = json.loads(line)
        if message['op'] == 'ping':
            reply = 'ready'
        elif message['op'] == 'start':
            pid = os.fork()
            if pid == 0:  # the child: one tools/train.py run
                code = 1
                try:
                    with open(message['log'], 'w') as log:
                        os.dup2(log.fileno(), 1)
                        os.dup2(log.fileno(), 2)
                    sys.stdout = open(1, 'w', buffering=1, closefd=False)
                    sys.stderr = open(2, 'w', buffering=1, closefd=False)
                    if message['fault']:
                        os.environ['VTT_FAULT_POINT'] = message['fault']
                    sys.argv = message['argv']
                    train_tool.main(message['argv'][1:])
                    code = 0
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else 1
                except BaseException:
                    import traceback
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            reply = pid
        else:  # status
            done, status = os.waitpid(message['pid'], os.WNOHANG)
            reply = None if done == 0 else (os.waitstatus_to_exitcode(status))
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


def final_state(work_dir: str) -> dict:
    """The weights of the latest checkpoint and the test metrics of a finished run."""
    from vtt.utils.compat import safe_torch_load
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        latest = handle.read().strip()
    state = safe_torch_load(latest)['state_dict']
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    metrics = {}
    if osp.isfile(metrics_file):
        with open(metrics_file) as handle:
            metrics = {k: v for k, v in json.load(handle)['metrics'].items()
                       if not any(word in k for word in TIMING_WORDS)}
    return dict(checkpoint=osp.basename(latest), state=state, metrics=metrics)


def _differences(name: str, a, b, atol: float) -> list:
    """Where two (nested) checkpoint values differ: tensors to float tolerance, containers
    item by item (CMG keeps CLUB's optimizer state in the state dict), the rest exactly."""
    import torch
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor) or a.shape != b.shape:
            return [f'{name} missing or reshaped']
        if a.is_floating_point():
            if not torch.allclose(a, b, atol=atol, rtol=1e-4, equal_nan=True):
                return [f'{name} differs by {(a - b).abs().max().item():.3g}']
            return []
        return [] if torch.equal(a, b) else [f'{name} differs']
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [f'{name} has other keys']
        return [d for k in a for d in _differences(f'{name}.{k}', a[k], b[k], atol)]
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return [f'{name} has another length']
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(
            f'{name}[{i}]', x, y, atol)]
    return [] if a == b else [f'{name}: {b!r} != {a!r}']


def compare(reference: dict, result: dict, atol: float = 1e-5) -> list:
    """Differences between two finished runs (empty when they agree)."""
    problems = []
    if reference['checkpoint'] != result['checkpoint']:
        problems.append(f"latest checkpoint {result['checkpoint']} != "
                        f"{reference['checkpoint']}")
    for key, value in reference['state'].items():
        if key not in result['state']:
            problems.append(f'weight {key} missing')
        else:
            problems += _differences(f'weight {key}', value, result['state'][key], atol)
    for key, value in reference['metrics'].items():
        other = result['metrics'].get(key)
        if other is None or abs(float(other) - float(value)) > 1e-4:
            problems.append(f'test metric {key}: {other} != {value}')
    return problems[:10]


def unreadable_checkpoints(work_dir: str) -> list:
    """Every ``.pth`` left in the work dir must load (temporary ``.tmp`` files are not
    checkpoints: a crash mid-write leaves one beside the untouched target)."""
    from vtt.utils.compat import safe_torch_load
    bad = []
    for name in sorted(os.listdir(work_dir)):
        if name.endswith('.pth'):
            try:
                safe_torch_load(osp.join(work_dir, name))
            except Exception as error:  # reported, not raised: this is what we look for
                bad.append(f'{name}: {type(error).__name__}: {error}')
    latest = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(latest):
        with open(latest) as handle:
            if not osp.isfile(handle.read().strip()):
                bad.append('last_checkpoint names a file that does not exist')
    return bad


class Campaign:
    def __init__(self, args):
        from vtt.testing.loader_fuzz import TARGETS
        self.args = args
        self.rng = random.Random(args.seed)  # the fuzzing's
        self.deadline = time.monotonic() + 60 * args.budget
        self.work_dir = args.work_dir or tempfile.mkdtemp(prefix='vtt_fault_injection_')
        os.makedirs(self.work_dir, exist_ok=True)
        self.fuzz_dir = osp.join(self.work_dir, 'fuzz')
        os.makedirs(self.fuzz_dir, exist_ok=True)
        self.targets = list(TARGETS.values())
        self.kills = self.survived = self.trials = self.fuzzed = 0
        self.failures = []
        self.references = {}
        self.zygote = (None if getattr(args, 'no_zygote', True) or args.no_kill else
                       Zygote())
        self.deadline = time.monotonic() + 60 * args.budget  # the budget starts after set-up
        self.lock = threading.Lock()
        self.reference_locks = {}

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    # -- fuzzing, done while a training process runs ------------------------------------
    def fuzz_once(self) -> None:
        from vtt.testing.loader_fuzz import fuzz_one, random_operations
        target = self.rng.choice(self.targets)
        with tempfile.TemporaryDirectory(dir=self.fuzz_dir) as folder:
            outcome = fuzz_one(target, random_operations(self.rng), folder=folder, timeout=20)
        self.fuzzed += 1
        if outcome.kind == 'failure':
            self.failures.append(dict(kind='fuzz', target=outcome.target,
                                      operations=outcome.operations, detail=outcome.detail))

    @staticmethod
    def wait(process, kill_after: float = None) -> bool:
        """Wait until ``process`` ends or ``kill_after`` seconds pass (then SIGKILL it).
        Returns True when this call killed a running process."""
        start = time.monotonic()
        while process.poll() is None:
            if kill_after is not None and time.monotonic() - start >= kill_after:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.02)
        return False

    # -- kill / resume ------------------------------------------------------------------
    def start(self, config, work_dir, resume, fault=None):
        log = osp.join(work_dir, f'run_{time.monotonic_ns()}.log')
        argv = train_command(config, work_dir, resume)
        if self.zygote is not None:
            return ForkedRun(self.zygote, argv[1:], fault, log)
        with open(log, 'w') as handle:
            return subprocess.Popen(argv, cwd=ROOT, env=run_env(fault), stdout=handle,
                                    stderr=subprocess.STDOUT)

    def reference(self, line, config):
        with self.lock:
            line_lock = self.reference_locks.setdefault(line, threading.Lock())
        with line_lock:
            return self._reference(line, config)

    def _reference(self, line, config):
        if line not in self.references:
            work_dir = osp.join(self.work_dir, line, 'reference')
            os.makedirs(work_dir, exist_ok=True)
            began = time.monotonic()
            process = self.start(config, work_dir, resume=False)
            self.wait(process)
            if process.returncode != 0:
                raise RuntimeError(f'the uninterrupted {line} run failed; see {work_dir}')
            self.references[line] = (final_state(work_dir), time.monotonic() - began)
        return self.references[line]

    def trial(self, line, config, rng):
        """One random trial: 2 to ``max_kills_per_trial`` kills, each at a random fault
        point or after a random time, then a resume that finishes."""
        _, duration = self.reference(line, config)
        plan = []
        for _ in range(rng.randint(min(2, self.args.max_kills_per_trial),
                                   self.args.max_kills_per_trial)):
            if rng.random() < 0.4:
                plan.append(f'{rng.choice(FAULT_POINTS)}:{rng.randint(1, 6)}')
            else:
                plan.append(rng.uniform(0.1, 1.0) * duration)
        return self.scripted_trial(line, config, plan)

    def scripted_trial(self, line, config, plan) -> list:
        """Run ``config`` killed as ``plan`` says (a fault point name such as ``val.iter:2``,
        or seconds after the start), resuming after each kill, then resume to the end and
        compare with the reference run. Returns the problems found (also recorded)."""
        reference, duration = self.reference(line, config)
        with self.lock:
            self.trials += 1
        work_dir = tempfile.mkdtemp(prefix='trial_', dir=osp.join(self.work_dir, line))
        how, resume = [], False
        for step in plan:
            if self.time_left() < duration * 1.5:
                break
            if isinstance(step, str):
                process = self.start(config, work_dir, resume, step)
                self.wait(process, kill_after=3 * duration + 30)
                killed = process.returncode == -signal.SIGKILL
                how.append(step if killed else f'{step} (not reached)')
            else:
                process = self.start(config, work_dir, resume)
                killed = self.wait(process, kill_after=step)
                how.append(f'after {step:.1f}s' if killed else 'finished before the kill')
            with self.lock:
                self.kills += killed
            resume = True
            if process.returncode not in (0, -signal.SIGKILL):
                return self._failed(line, work_dir, how, f'exit status {process.returncode}')
            if process.returncode == 0:
                break
            bad = unreadable_checkpoints(work_dir)
            if bad:
                return self._failed(line, work_dir, how, f'after the kill: {bad}')
        if not how:
            with self.lock:
                self.trials -= 1
            return []
        process = self.start(config, work_dir, resume)
        self.wait(process)
        problems = ([f'the resumed run exited with {process.returncode}']
                    if process.returncode != 0 else
                    unreadable_checkpoints(work_dir) + compare(reference, final_state(work_dir)))
        if problems:
            return self._failed(line, work_dir, how, problems)
        with self.lock:
            self.survived += 1
        return []

    def _failed(self, line, work_dir, how, detail) -> list:
        failure = dict(kind='kill', line=line, work_dir=work_dir, how=how, detail=detail)
        with self.lock:
            self.failures.append(failure)
        return [failure]

    def run(self):
        """Kill trials in ``--workers`` threads (each drives one training process at a time,
        so two single-threaded runs share two cores), fuzzing in this thread meanwhile (a
        quarter of the time while runs go on: most of the CPU is theirs)."""
        from vtt.testing.tiny_experiments import TINY_LINES, write_tiny_experiments
        lines = list(self.args.lines or TINY_LINES)
        workers = []
        if not self.args.no_kill:
            configs = write_tiny_experiments(osp.join(self.work_dir, 'configs'), lines)
            order = itertools.cycle(lines)

            def worker(index):
                rng = random.Random(self.args.seed * 1000 + index)
                while True:
                    with self.lock:
                        line = next(order)
                    known = self.references.get(line)
                    if self.time_left() < 1.5 * (known[1] if known else 60):
                        return
                    try:
                        self.trial(line, configs[line], rng)
                    except Exception as error:  # a broken reference run: report, go on
                        with self.lock:
                            self.failures.append(dict(kind='kill', line=line,
                                                      detail=f'{type(error).__name__}: {error}'))
                        return

            workers = [threading.Thread(target=worker, args=(i, ), daemon=True)
                       for i in range(self.args.workers)]
            for thread in workers:
                thread.start()
        while self.time_left() > 0 or any(t.is_alive() for t in workers):
            if self.args.no_fuzz or (self.time_left() <= 0 and workers):
                time.sleep(0.2)
                continue
            began = time.monotonic()
            self.fuzz_once()
            if any(t.is_alive() for t in workers):
                time.sleep(min(3 * (time.monotonic() - began), 1.0))
        return self.report()

    def report(self) -> dict:
        summary = dict(kills=self.kills, survived=self.survived, trials=self.trials,
                       inputs_fuzzed=self.fuzzed, failures=len(self.failures))
        with open(osp.join(self.work_dir, 'fault_injection.json'), 'w') as handle:
            json.dump(dict(summary, details=self.failures), handle, indent=2, default=str)
        return summary


def main(argv=None):
    args = parse_args(argv)
    if args.zygote:
        return zygote_main()
    from vtt.setup_env import register_all_modules
    register_all_modules()
    campaign = Campaign(args)
    try:
        summary = campaign.run()
    finally:
        if campaign.zygote is not None:
            campaign.zygote.close()
    for failure in campaign.failures:
        print('FAILURE', json.dumps(failure, default=str)[:2000])
    print(f"kills={summary['kills']} survived={summary['survived']} "
          f"inputs_fuzzed={summary['inputs_fuzzed']} failures={summary['failures']}")
    print(f'(trials={summary["trials"]}; report: '
          f'{osp.join(campaign.work_dir, "fault_injection.json")})')
    return summary


if __name__ == '__main__':
    main()
