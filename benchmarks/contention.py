"""Training beside another CPU-bound process: how much slower than alone, for torch's thread settings.

One workload (`lstmkit forecast train` on the sine series, a fixed 40 epochs, networks only), each setting
run alone and then as two identical processes started together (a second training, the way a notebook, a
CI runner or a server shares the machine). The figure is the training time (the fit's own wall time,
from --json); the slowdown is the mean of the pair over the time alone. A fair share of 2 processes on
the machine's cores is 2x. The settings:

- torch default, all cores: one thread per core, and GNU OpenMP's default wait (a waiting thread spins
  300,000 times before it sleeps); the environment's OMP_* and GOMP_* variables are removed;
- short spin, all cores: GNU OpenMP spins 10,000 times (GOMP_SPINCOUNT; its default is 300,000) before
  a waiting thread sleeps;
- passive, all cores: waiting threads sleep at once (OMP_WAIT_POLICY=PASSIVE);
- 1 thread: --threads 1 (no worker threads, nothing spins).

Run on an idle machine only: `make bench-contention` (about 6 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOAD = "forecast train --data sine --lookback 20 --epochs 40 --patience 1000 --combine none --json".split()


def train(out: Path, env: dict, threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "lstmkit.cli", *WORKLOAD, "--threads", str(threads), "--out", str(out)]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**inherited, **env})


def seconds(process: subprocess.Popen) -> tuple[float, float]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the workload failed (exit {process.returncode})")
    report = json.loads(out)
    return report["seconds"], report["metrics"]["model"]["rmse"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/contention.json"))
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    settings = [
        ("torch default, all cores", {}, cores),
        ("short spin, all cores", {"GOMP_SPINCOUNT": "10000"}, cores),
        ("passive, all cores", {"OMP_WAIT_POLICY": "PASSIVE"}, cores),
        ("1 thread", {}, 1),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, env, threads in settings:
            run = iter(range(100))
            alone, rmse = seconds(train(Path(tmp) / f"{next(run)}{name}", env, threads))
            started = time.monotonic()
            pair = [train(Path(tmp) / f"{next(run)}{name}", env, threads) for _ in range(2)]
            together = [seconds(p)[0] for p in pair]
            wall = time.monotonic() - started
            rows.append(
                {
                    "setting": name,
                    "threads": threads,
                    "alone_s": round(alone, 2),
                    "beside_another_s": round(sum(together) / 2, 2),
                    "slowdown": round(sum(together) / 2 / alone, 2),
                    "pair_wall_s": round(wall, 2),
                    "test_rmse": rmse,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cores": cores, "workload": " ".join(WORKLOAD), "rows": rows}, indent=1) + "\n")
    print(f"\n{'setting':22s} {'alone s':>8s} {'beside another s':>17s} {'slowdown':>9s}")
    for r in rows:
        print(f"{r['setting']:22s} {r['alone_s']:8.2f} {r['beside_another_s']:17.2f} {r['slowdown']:8.2f}x")


if __name__ == "__main__":
    main()
