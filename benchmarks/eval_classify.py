"""The classification part of the quality suite (``make eval``): ``SequenceClassifier`` defaults (and
``--auto``) against 1-NN DTW and ROCKET on time-series classification sets of the UCR/UEA archive, with
the archive's official train/test splits (files in sktime's data folder; benchmarks/eval_data.py).

Both baselines are implemented here, from their papers, because their usual libraries (sktime, aeon)
are not dependencies: 1-NN DTW (squared point distance, summed over dimensions: "dependent" DTW; a
Sakoe-Chiba band of 10% of the length, the full band for unequal lengths) and ROCKET (Dempster et al.
2020: random dilated kernels, PPV and max features, ridge classifier). tests/test_benchmarks.py checks
the DTW against the textbook recursion. lstmkit's accuracy and seconds are means over two seeds
(``--seeds``); the baselines' are one run (1-NN DTW is deterministic, ROCKET's kernels are seeded).

    python benchmarks/eval_classify.py                       # defaults, every set
    python benchmarks/eval_classify.py --only GunPoint --set normalize=sequence --no-baselines
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from eval import parse_overrides, suite_parser, write_tables
from eval_data import CLASSIFY_SETS, ucr_split
from lstmkit.tasks.classify import SequenceClassifier


# ----------------------------------------------------------------------------------------- 1-NN DTW
def _padded(sequences: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    longest = max(len(s) for s in sequences)
    out = torch.zeros(len(sequences), longest, sequences[0].shape[1], dtype=torch.float64)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = torch.as_tensor(s)
    return out, torch.tensor([len(s) for s in sequences])


def dtw_distances(queries: list[np.ndarray], references: list[np.ndarray], window: int | None = None, chunk: int = 16) -> np.ndarray:
    """DTW distances (n_queries, n_references), cumulated squared differences, with a Sakoe-Chiba band
    |i - j| <= window (None: full). The dynamic programme runs along anti-diagonals (cells i + j = s
    depend on diagonals s - 1 and s - 2 only), vectorised over pairs and over the band's cells, so
    unequal lengths share one pass (with a band, they need window >= the length difference)."""
    q, q_len = _padded(queries)
    r, r_len = _padded(references)
    a, b = q.shape[1], r.shape[1]
    band = window if window is not None else a + b
    out = np.empty((len(queries), len(references)))
    for start in range(0, len(queries), chunk):
        qc, lengths = q[start : start + chunk], q_len[start : start + chunk]
        ends = lengths[:, None] + r_len[None]  # the diagonal of each pair's last cell
        result = torch.empty(ends.shape, dtype=torch.float64)
        before = torch.full((*ends.shape, a + 1), torch.inf, dtype=torch.float64)  # diagonal s - 2, by i
        before[..., 0] = 0  # diagonal 0: the empty alignment
        last = torch.full_like(before, torch.inf)  # diagonal 1: no cell of both sequences
        for s in range(2, a + b + 1):
            i = torch.arange(max(1, s - b, -((band - s) // 2)), min(a, s - 1, (s + band) // 2) + 1)
            current = torch.full_like(before, torch.inf)
            if len(i):
                cost = ((qc[:, None, i - 1] - r[None, :, s - i - 1]) ** 2).sum(-1)  # (n, m, cells)
                best = torch.minimum(torch.minimum(before[..., i - 1], last[..., i - 1]), last[..., i])
                current[..., i] = cost + best
            done = ends == s
            if done.any():
                result[done] = current.gather(2, lengths[:, None, None].expand(*ends.shape, 1))[..., 0][done]
            before, last = last, current
        out[start : start + len(qc)] = result.numpy()
    return out


def dtw_window(sequences: list[np.ndarray]) -> int | None:
    """The band of the suite's 1-NN DTW: 10% of the length for equal-length sets (on OSULeaf's 427 steps
    the band holds 87 cells of each row's 427, so the full band costs about 5x more), the full band for
    unequal lengths (short here)."""
    lengths = {len(s) for s in sequences}
    return max(1, round(0.1 * lengths.pop())) if len(lengths) == 1 else None


def one_nn_dtw(train: tuple, test: tuple) -> list:
    distances = dtw_distances(test[0], train[0], dtw_window([*train[0], *test[0]]))
    return [train[1][i] for i in distances.argmin(1)]


# ------------------------------------------------------------------------------------------- ROCKET
def rocket_features(sequences: list[np.ndarray], kernels: list[tuple]) -> np.ndarray:
    x, _ = _padded(sequences)
    x = x.float().transpose(1, 2)  # (N, F, T)
    features = []
    for weights, bias, dilation, padding in kernels:
        out = torch.nn.functional.conv1d(x, weights, bias, dilation=dilation, padding=padding)  # (N, k, T')
        features += [(out > 0).float().mean(-1), out.amax(-1)]
    return torch.cat(features, 1).numpy()


def make_kernels(n: int, channels: int, length: int, seed: int = 0) -> list[tuple]:
    """ROCKET's random kernels, grouped by (size, dilation, padding) so that each group is one conv1d."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple, list] = {}
    for _ in range(n):
        size = int(rng.choice([7, 9, 11]))
        weights = rng.normal(size=(channels, size))
        weights -= weights.mean()
        dilation = int(2 ** rng.uniform(0, np.log2(max(1, (length - 1) / (size - 1)))))
        padding = (size - 1) * dilation // 2 if rng.integers(2) else 0
        groups.setdefault((size, dilation, padding), []).append((weights, rng.uniform(-1, 1)))
    return [
        (torch.tensor(np.stack([w for w, _ in g]), dtype=torch.float32), torch.tensor([b for _, b in g], dtype=torch.float32), d, p)
        for (_, d, p), g in groups.items()
    ]


def rocket(train: tuple, test: tuple, n_kernels: int = 10_000) -> list:
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kernels = make_kernels(n_kernels, train[0][0].shape[1], min(len(s) for s in train[0]))
    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    model.fit(rocket_features(train[0], kernels), train[1])
    return list(model.predict(rocket_features(test[0], kernels)))


# -------------------------------------------------------------------------------------------- suite
def classify_set(name: str, overrides: dict, auto_minutes: float | None, seeds: list[int], baselines: bool = True) -> dict:
    """Accuracy and fit + predict seconds of each method; lstmkit's are means over ``seeds`` (on sets of
    36-100 training series one seed's accuracy moves by up to 10 points), with each seed's accuracy kept."""
    split = ucr_split(name)
    train, test = split["train"], split["test"]
    methods = {"1nn_dtw": lambda seed: one_nn_dtw(train, test), "rocket": lambda seed: rocket(train, test)} if baselines else {}
    methods["lstmkit"] = lambda seed: SequenceClassifier(verbose=False, seed=seed, **overrides).fit(train).predict(test[0])
    if auto_minutes:
        methods["lstmkit --auto"] = lambda seed: (
            SequenceClassifier(verbose=False, seed=seed, max_minutes=auto_minutes, **overrides).fit(train, auto=True).predict(test[0])
        )
    accuracy, seconds, per_seed = {}, {}, {}
    for method, run in methods.items():
        runs = seeds if method.startswith("lstmkit") else [0]
        scores, times = [], []
        for seed in runs:
            started = time.perf_counter()
            predicted = run(seed)
            times.append(time.perf_counter() - started)
            scores.append(float(np.mean([p == t for p, t in zip(predicted, test[1])])))
        accuracy[method], seconds[method] = float(np.mean(scores)), float(np.mean(times))
        if len(runs) > 1:
            per_seed[method] = scores
    return {"set": name, "description": CLASSIFY_SETS[name], "accuracy": accuracy, "seconds": seconds, "per_seed": per_seed}


def markdown(rows: list[dict]) -> str:
    methods = list(rows[0]["accuracy"])
    lines = [
        "| set | shape | " + " | ".join(methods) + " | " + " | ".join(f"{m} s" for m in methods) + " |",
        "|---|---|" + "---|" * (2 * len(methods)),
    ]
    for r in rows:
        best = max(r["accuracy"].values())
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in r["accuracy"].values()]
        lines.append(
            f"| {r['set']} | {r['description']} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{r['seconds'][m]:.1f}" for m in methods)
            + " |"
        )
    means = {m: np.mean([r["accuracy"][m] for r in rows]) for m in methods}
    totals = {m: sum(r["seconds"][m] for r in rows) for m in methods}
    lines.append(
        "| **mean** | | " + " | ".join(f"{means[m]:.3f}" for m in methods) + " | " + " | ".join(f"{totals[m]:.0f}" for m in methods) + " |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = suite_parser(__doc__, "set", "ClassifierConfig", "eval_classify")
    parser.add_argument("--no-baselines", action="store_true", help="lstmkit only (for comparing its settings)")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds of lstmkit's fits (its figures are their means)")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    rows = []
    for name in args.only.split(",") if args.only else list(CLASSIFY_SETS):
        row = classify_set(name, overrides, args.auto_minutes, seeds, not args.no_baselines)
        rows.append(row)
        print(f"{name:18s} " + "  ".join(f"{m} {a:.3f} ({row['seconds'][m]:.1f} s)" for m, a in row["accuracy"].items()), flush=True)
    write_tables(args.out, {"rows": rows, "overrides": overrides, "seeds": seeds}, markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
