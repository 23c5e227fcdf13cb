"""QLoRA training steps of the real Gemma 3 270M on CPU (4-bit NF4 base + LoRA adapters).

    python tools/benchmarks/gemma3_qlora_step.py [--steps 3] [--rank 8] [--seq-len 32]
                                                 [--gradient-checkpointing] [--threads N]

Loads Gemma 3 270M from the bundled GGUF asset (converted once into vtt's cache as a Hugging
Face directory; the first run takes about a minute more) through
``HFCausalLM(pretrained='gemma3_270m', quantization='nf4', lora=...)``, runs one eval forward
(the pass that used to corrupt LoRA gradients on AVX512-BF16 CPUs: see
:mod:`vtt.models.language_models.causal_lm`), then ``--steps`` AdamW steps on a batch of two
real sentences of ``--seq-len`` tokens. Prints a table (trainable parameters, 4-bit layers,
load time, seconds per step, losses, peak RSS) and, last, one line::

    gemma3_270m_qlora trainable=1898496 (0.70%) linear4bit=126 load_s=.. s_per_step=..
    loss=a->b lora_changed=252/252 peak_rss_gb=..
"""
import argparse
import os.path as osp
import resource
import sys
import time
import warnings

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

TEXTS = (
    'A surface analysis chart shows isobars every four hectopascals, with a deep low over the '
    'North Sea and a ridge of high pressure extending from the Azores towards Biscay.',
    'Tonight a cold front moves slowly east across the country, bringing a band of heavy rain '
    'and gusty winds, followed by clearer, colder air and scattered showers by morning.',
)


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def run(steps: int, rank: int, seq_len: int, lr: float, gradient_checkpointing: bool) -> dict:
    import torch

    from vtt.models.language_models import HFCausalLM
    from vtt.utils.assets import gemma3_270m_hf_dir

    start = time.perf_counter()
    gemma3_270m_hf_dir()  # converts once (about a minute and 3.6 GB the first time)
    asset_s = time.perf_counter() - start

    torch.manual_seed(0)
    start = time.perf_counter()
    lm = HFCausalLM('gemma3_270m', quantization='nf4',
                    lora=dict(r=rank, alpha=2 * rank, dropout=0.05),
                    gradient_checkpointing=gradient_checkpointing)
    load_s = time.perf_counter() - start
    rss_after_load = peak_rss_gb()
    trainable, total = lm.parameter_counts()

    start = time.perf_counter()
    tokenizer = lm.tokenizer
    tokenizer_s = time.perf_counter() - start
    batch = tokenizer(list(TEXTS), truncation=True, max_length=seq_len, padding='max_length',
                      return_tensors='pt')
    ids, mask = batch.input_ids, batch.attention_mask
    labels = ids.masked_fill(mask == 0, -100)

    # An eval forward first (validation, generate, candidate scoring all look like this).
    lm.eval()
    start = time.perf_counter()
    with torch.no_grad():
        eval_loss = lm(input_ids=ids, attention_mask=mask, labels=labels).loss.item()
    eval_s = time.perf_counter() - start

    params = [p for p in lm.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    lm.train()
    losses, times = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(steps):
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = lm(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
            losses.append(loss.item())
    dropped = sum('autograd kernel was not registered' in str(w.message) for w in caught)
    changed = sum(not torch.equal(p, b) for p, b in zip(params, before))
    per_step = times[1:] if len(times) > 1 else times  # the first step warms up
    return dict(
        asset_s=asset_s, load_s=load_s, tokenizer_s=tokenizer_s, eval_s=eval_s,
        eval_loss=eval_loss, losses=losses, step_s=sum(per_step) / len(per_step),
        first_step_s=times[0], trainable=trainable, total=total,
        linear4bit=lm.num_linear4bit, changed=changed, num_trainable_tensors=len(params),
        dropped_gradient_warnings=dropped, rss_after_load_gb=rss_after_load,
        peak_rss_gb=peak_rss_gb(), batch=tuple(ids.shape),
        threads=torch.get_num_threads())


def report(r: dict, steps: int) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(title='Gemma 3 270M, 4-bit NF4 + LoRA on CPU')
    table.add_column('quantity')
    table.add_column('value', justify='right')
    pct = 100.0 * r['trainable'] / r['total']
    decreased = r['losses'][-1] < r['losses'][0] if len(r['losses']) > 1 else None
    rows = [
        ('trainable parameters', f"{r['trainable']:,} of {r['total']:,} ({pct:.2f}%)"),
        ('Linear4bit layers', str(r['linear4bit'])),
        ('asset check / conversion (s)', f"{r['asset_s']:.1f}"),
        ('load, 4-bit + LoRA (s)', f"{r['load_s']:.1f}"),
        ('tokenizer load (s)', f"{r['tokenizer_s']:.1f}"),
        ('batch (sequences x tokens)', f"{r['batch'][0]} x {r['batch'][1]}"),
        ('eval forward (s) / loss', f"{r['eval_s']:.2f} / {r['eval_loss']:.3f}"),
        ('first training step (s)', f"{r['first_step_s']:.2f}"),
        (f'seconds per step (of {max(steps - 1, 1)})', f"{r['step_s']:.2f}"),
        ('losses', ' -> '.join(f'{v:.3f}' for v in r['losses'])),
        ('loss decreased', str(decreased)),
        ('LoRA tensors changed', f"{r['changed']} of {r['num_trainable_tensors']}"),
        ('"autograd kernel not registered" warnings', str(r['dropped_gradient_warnings'])),
        ('peak RSS after load (GB)', f"{r['rss_after_load_gb']:.2f}"),
        ('peak RSS (GB)', f"{r['peak_rss_gb']:.2f}"),
        ('torch threads', str(r['threads'])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console = Console()
    if not console.is_terminal:  # a log file: do not squeeze the table to 80 columns
        console = Console(width=120)
    console.print(table)
    print(f"gemma3_270m_qlora trainable={r['trainable']} ({pct:.2f}%) "
          f"linear4bit={r['linear4bit']} load_s={r['load_s']:.1f} "
          f"s_per_step={r['step_s']:.2f} loss={r['losses'][0]:.3f}->{r['losses'][-1]:.3f} "
          f"lora_changed={r['changed']}/{r['num_trainable_tensors']} "
          f"peak_rss_gb={r['peak_rss_gb']:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=3, help='training steps (default 3)')
    parser.add_argument('--rank', type=int, default=8, help='LoRA rank (alpha = 2 x rank)')
    parser.add_argument('--seq-len', type=int, default=32, help='tokens per sequence')
    parser.add_argument('--lr', type=float, default=1e-3, help='AdamW learning rate')
    parser.add_argument('--gradient-checkpointing', action='store_true',
                        help='recompute activations in the backward pass')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error('--steps must be at least 1')
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    result = run(args.steps, args.rank, args.seq_len, args.lr, args.gradient_checkpointing)
    report(result, args.steps)


if __name__ == '__main__':
    main()
