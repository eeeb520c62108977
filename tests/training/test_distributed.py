"""Training under torchrun: two CPU processes (gloo), each on its share of every batch, end with the
weights of one process trained on the whole batches."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file

from helpers import run_process_group


@pytest.mark.slow
def test_two_gloo_processes_train_the_weights_of_one(tmp_path):
    months = pd.date_range("2000-01-01", periods=60, freq="MS")
    rng = np.random.default_rng(0)
    wave = np.sin(np.arange(60) / 2)
    frames = [pd.DataFrame({"id": f"s{k}", "date": months, "y": 10.0 * (k + 1) + wave + rng.normal(0, 0.1, 60)}) for k in range(4)]
    table = pd.concat(frames)
    data = tmp_path / "panel.csv"
    table.to_csv(data, index=False)
    train = ["forecast", "train", "--data", str(data), "--id-column", "id", "--horizon", "3", "--lookback", "12", "--epochs", "3"]
    train += ["--batch-size", "16", "--hidden-size", "8", "--seed", "5", "--test-fraction", "0"]
    one = run_process_group([sys.executable, "-m", "lstmkit", *train, "--out", str(tmp_path / "one")], timeout=300)
    assert one.returncode == 0, one.stderr
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    launch += ["-m", "lstmkit", *train, "--out", str(tmp_path / "two")]
    # one machine: gloo talks over loopback, whatever address the host name resolves to
    two = run_process_group(launch, timeout=300, env={"GLOO_SOCKET_IFNAME": "lo"})
    assert two.returncode == 0, two.stderr[-3000:]
    reports = [json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("one", "two")]
    assert [r["processes"] for r in reports] == [1, 2] and reports[0]["epochs"] == reports[1]["epochs"] == 3
    single, double = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert single.keys() == double.keys()
    for name in single:  # float32 sums taken in another order: equal to rounding, after 3 epochs of Adam
        np.testing.assert_allclose(double[name], single[name], rtol=0, atol=2e-5, err_msg=name)
    assert any(np.abs(single[name]).max() > 0.01 for name in single)  # trained, not left at the zero-initialised head
