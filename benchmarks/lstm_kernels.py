"""lstmkit.nn.LSTM (fused and explicit paths) vs torch.nn.LSTM: forward and forward+backward time.

Grid: B in {1, 32, 256}, H in {64, 256, 1024}, F = H, T = 50, fp32, one layer; on the CPU, and on
a GPU when one is available. The three implementations share weights and inputs and are timed in
interleaved rounds (torch, fused, explicit, torch, ...) so that drift in machine load hits all of them
alike; each time is the median over rounds of the mean time of the calls in a round, and each ratio
the median over rounds of that round's time over torch's time in the same round. The table also gives
the largest absolute difference of each path's output from torch's, the quality side of the ratio.

Run: make bench   (or: python benchmarks/lstm_kernels.py --device cpu --json out.json)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from lstmkit.nn import LSTM

T = 50
BATCHES = (1, 32, 256)
HIDDEN = (64, 256, 1024)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_call(module: torch.nn.Module, x: torch.Tensor, backward: bool):
    if backward:

        def call():
            module.zero_grad(set_to_none=True)
            module(x)[0].sum().backward()
    else:

        def call():
            with torch.no_grad():
                module(x)

    return call


def time_round(call, inner: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(inner):
        call()
    sync(device)
    return (time.perf_counter() - start) / inner


def bench_point(batch: int, hidden: int, device: torch.device, min_rounds: int, sample_seconds: float, budget_seconds: float) -> list[dict]:
    torch.manual_seed(0)
    reference = torch.nn.LSTM(hidden, hidden, batch_first=True).to(device)
    fused = LSTM(hidden, hidden, impl="fused").to(device)
    explicit = LSTM(hidden, hidden, impl="explicit").to(device)
    fused.load_state_dict(reference.state_dict())
    explicit.load_state_dict(reference.state_dict())
    x = torch.randn(batch, T, hidden, device=device)
    modules = {"torch": reference, "fused": fused, "explicit": explicit}

    with torch.no_grad():
        want = reference(x)[0]
        error = {name: (m(x)[0] - want).abs().max().item() for name, m in modules.items() if name != "torch"}

    rows = []
    for backward in (False, True):
        calls = {name: make_call(m, x, backward) for name, m in modules.items()}
        for call in calls.values():  # warm-up: allocator, oneDNN primitive caches, cuDNN plans
            call()
            call()
        probe = time_round(calls["torch"], 1, device)
        inner = max(1, int(sample_seconds / max(probe, 1e-7)))
        # Many short rounds beat few long ones on a busy machine: the median discards the disturbed ones.
        n_rounds = max(min_rounds, min(101, int(budget_seconds / (probe * inner))))
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for r in range(n_rounds):
            names = list(calls)
            names = names[r % 3 :] + names[: r % 3]  # rotate who goes first
            for name in names:
                samples[name].append(time_round(calls[name], inner, device))
        median = {name: statistics.median(s) for name, s in samples.items()}
        # Ratios are paired: each round's time over torch's time in the same round, then the median.
        # Pairing cancels the slow drifts of a shared machine that unpaired medians keep.
        ratio = {name: statistics.median(a / b for a, b in zip(samples[name], samples["torch"])) for name in ("fused", "explicit")}
        rows.append(
            {
                "device": device.type,
                "B": batch,
                "H": hidden,
                "T": T,
                "pass": "fwd+bwd" if backward else "fwd",
                "rounds": n_rounds,
                "calls_per_round": inner,
                "torch_ms": median["torch"] * 1e3,
                "fused_ms": median["fused"] * 1e3,
                "explicit_ms": median["explicit"] * 1e3,
                "fused_ratio": ratio["fused"],
                "explicit_ratio": ratio["explicit"],
                "fused_max_abs_diff": error["fused"],
                "explicit_max_abs_diff": error["explicit"],
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-rounds", type=int, default=5, help="fewest interleaved timing rounds per point")
    parser.add_argument("--sample-seconds", type=float, default=0.005, help="time one round of one implementation lasts")
    parser.add_argument("--budget-seconds", type=float, default=1.0, help="timing per point and implementation (rounds up to 101)")
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()

    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    if not devices:
        print("no CUDA device here; run with --device cpu", file=sys.stderr)
        return 2

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, T={T}, fp32, "
        f"medians of {args.min_rounds} to 101 interleaved rounds"
    )
    header = "| device | B | H | pass | torch ms | fused ms | explicit ms | fused/torch | explicit/torch | max abs diff fused / explicit |"
    print(header)
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
    rows = []
    for device in devices:
        for batch in BATCHES:
            for hidden in HIDDEN:
                for row in bench_point(batch, hidden, device, args.min_rounds, args.sample_seconds, args.budget_seconds):
                    rows.append(row)
                    print(
                        f"| {row['device']} | {row['B']} | {row['H']} | {row['pass']} | {row['torch_ms']:.3f} | "
                        f"{row['fused_ms']:.3f} | {row['explicit_ms']:.3f} | {row['fused_ratio']:.3f} | "
                        f"{row['explicit_ratio']:.2f} | {row['fused_max_abs_diff']:.1e} / {row['explicit_max_abs_diff']:.1e} |",
                        flush=True,
                    )
    for device in devices:
        ratios = [r["fused_ratio"] for r in rows if r["device"] == device.type]
        verdict = "within" if max(ratios) <= 1.05 else "NOT within"
        print(
            f"{device.type}: fused/torch ratio {min(ratios):.3f} .. {max(ratios):.3f} "
            f"(median {statistics.median(ratios):.3f}): {verdict} the 5% target at every grid point"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
