"""K-candidate scoring: K full passes (naive) vs one prompt pass whose key/value cache is shared.

    python tools/benchmarks/candidate_scoring.py [--candidates 8] [--prompt-tokens 300]
                                                  [--layers 2] [--vocab 32768] [--threads N]

The product stage scores every candidate product name's log-likelihood after one long prompt
(image tokens + detected elements + candidate list + instruction). Naively that is K forward
passes over ``prompt + candidate``; :meth:`vtt.models.language_models.HFCausalLM.
candidate_log_likelihoods` runs the prompt once and continues a copy of its cache with the K
candidates right-padded into one batch.

The model is a random Gemma 3 with the LAYER SHAPES of Gemma 3 4B's language model (hidden
2560, MLP 10240, 8 query / 4 key-value heads of 256, sliding window 1024 with every 6th layer
global) scaled to fit a CPU: ``--layers`` decoder layers (4B has 34) and a ``--vocab``-token
vocabulary (4B has 262,208: pass ``--vocab 262208`` for the real output layer). It is written
with ``save_pretrained`` to a temporary directory and loaded back through ``HFCausalLM`` (the
same ``from_pretrained`` path as the real model). The prompt has ``--prompt-tokens`` tokens
(the 4B model alone spends 256 on an image).

Three timings, each the best of ``--repeats``:

* ``naive``: K passes over ``prompt + candidate`` with full logits (what a plain loop does);
* ``naive_keep``: the same with ``logits_to_keep`` = the candidate's length (the fair naive
  baseline: no wasted output-layer work on the prompt);
* ``kv_reuse``: ``candidate_log_likelihoods`` (prompt encoding included).

Prints a table, then one line::

    candidate_scoring K=8 prompt=300 naive_s=.. naive_keep_s=.. kv_reuse_s=..
    ratio=.. ratio_keep=.. max_abs_diff=..

``ratio`` = naive / kv_reuse, ``ratio_keep`` = naive_keep / kv_reuse, ``max_abs_diff`` the
largest difference between the naive and the cached summed log-likelihoods.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import vtt  # noqa: E402,F401  (first: quiets third-party import noise)

#: Gemma 3 4B's language-model layer shapes (transformers' Gemma3TextConfig of the 4B model).
GEMMA3_4B_TEXT = dict(hidden_size=2560, intermediate_size=10240, num_attention_heads=8,
                      num_key_value_heads=4, head_dim=256, sliding_window=1024,
                      query_pre_attn_scalar=256, rope_theta=1_000_000.0,
                      max_position_embeddings=4096, pad_token_id=0, eos_token_id=1,
                      bos_token_id=2)


def layer_types(count: int):
    """Gemma 3's pattern: five sliding-window layers, then one global layer."""
    return ['full_attention' if (i + 1) % 6 == 0 else 'sliding_attention'
            for i in range(count)]


def save_model(path: str, layers: int, vocab: int, seed: int) -> None:
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig
    torch.manual_seed(seed)
    config = Gemma3TextConfig(vocab_size=vocab, num_hidden_layers=layers,
                              layer_types=layer_types(layers), **GEMMA3_4B_TEXT)
    Gemma3ForCausalLM(config).save_pretrained(path)


def naive_scores(lm, prompt, candidates, keep: bool):
    """Summed log-likelihood of each candidate by a full pass over ``prompt + candidate``."""
    import torch
    scores = []
    with torch.no_grad():
        for cand in candidates:
            ids = torch.cat([prompt, cand])[None]
            n = cand.numel()
            # positions P-1 .. P+n-2 predict the n candidate tokens
            kwargs = dict(logits_to_keep=n + 1) if keep else {}
            logits = lm(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs).logits
            log_probs = logits[0, -(n + 1):-1].float().log_softmax(-1)
            scores.append(log_probs.gather(-1, cand[:, None]).sum())
    return torch.stack(scores)


def best_time(fn, repeats: int):
    best, out = float('inf'), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def run(args) -> dict:
    import torch

    from vtt.models.language_models import HFCausalLM
    with tempfile.TemporaryDirectory(prefix='gemma3_4b_shapes_') as tmp:
        start = time.perf_counter()
        save_model(tmp, args.layers, args.vocab, args.seed)
        lm = HFCausalLM(tmp, local_files_only=True).eval()
        load_s = time.perf_counter() - start
    params = sum(p.numel() for p in lm.parameters())
    gen = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(3, args.vocab, (args.prompt_tokens, ), generator=gen)
    prompt[0] = 2  # <bos>
    lengths = torch.randint(args.min_len, args.max_len + 1, (args.candidates, ), generator=gen)
    candidates = [torch.randint(3, args.vocab, (int(n), ), generator=gen) for n in lengths]

    naive_s, naive = best_time(lambda: naive_scores(lm, prompt, candidates, False),
                               args.repeats)
    keep_s, keep = best_time(lambda: naive_scores(lm, prompt, candidates, True), args.repeats)
    kv_s, cached = best_time(lambda: lm.candidate_log_likelihoods(prompt, candidates),
                             args.repeats)
    return dict(load_s=load_s, params=params, naive_s=naive_s, keep_s=keep_s, kv_s=kv_s,
                max_abs_diff=float(max((naive - cached).abs().max(),
                                       (keep - cached).abs().max())),
                lengths=[int(n) for n in lengths], threads=torch.get_num_threads())


def report(r: dict, args) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f'Scoring {args.candidates} candidates after a {args.prompt_tokens}-'
                  f'token prompt (Gemma 3 4B layer shapes, {args.layers} layers, vocab '
                  f'{args.vocab:,})')
    table.add_column('quantity')
    table.add_column('value', justify='right')
    rows = [
        ('parameters', f"{r['params']:,}"),
        ('save + load through HFCausalLM (s)', f"{r['load_s']:.1f}"),
        ('candidate lengths (tokens)', ' '.join(map(str, r['lengths']))),
        ('naive: K full passes (s)', f"{r['naive_s']:.3f}"),
        ('naive with logits_to_keep (s)', f"{r['keep_s']:.3f}"),
        ('prompt once + shared cache (s)', f"{r['kv_s']:.3f}"),
        ('speed-up vs naive', f"{r['naive_s'] / r['kv_s']:.1f}x"),
        ('speed-up vs naive with logits_to_keep', f"{r['keep_s'] / r['kv_s']:.1f}x"),
        ('max |naive - cached| log-likelihood', f"{r['max_abs_diff']:.2e}"),
        ('torch threads', str(r['threads'])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    console.print(table)
    print(f"candidate_scoring K={args.candidates} prompt={args.prompt_tokens} "
          f"naive_s={r['naive_s']:.3f} naive_keep_s={r['keep_s']:.3f} kv_reuse_s={r['kv_s']:.3f} "
          f"ratio={r['naive_s'] / r['kv_s']:.2f} ratio_keep={r['keep_s'] / r['kv_s']:.2f} "
          f"max_abs_diff={r['max_abs_diff']:.2e}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--candidates', type=int, default=8, help='K (default 8)')
    parser.add_argument('--prompt-tokens', type=int, default=300)
    parser.add_argument('--min-len', type=int, default=3, help='shortest candidate (tokens)')
    parser.add_argument('--max-len', type=int, default=8, help='longest candidate (tokens)')
    parser.add_argument('--layers', type=int, default=2, help='decoder layers (4B: 34)')
    parser.add_argument('--vocab', type=int, default=32768, help='vocabulary (4B: 262208)')
    parser.add_argument('--repeats', type=int, default=2, help='best of N timings')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.candidates < 1 or args.prompt_tokens < 1 or not 1 <= args.min_len <= args.max_len:
        parser.error('need --candidates >= 1, --prompt-tokens >= 1 and 1 <= --min-len <= '
                     '--max-len')
    if args.vocab <= 3:
        parser.error('--vocab must exceed the 3 special tokens')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    report(run(args), args)


if __name__ == '__main__':
    main()
