"""The CLI through its real entry point, as a user runs it."""

import json
import subprocess
import sys

import torch

from lstmkit.io.artifacts import save_model


def lstmkit(*args):
    return subprocess.run([sys.executable, "-m", "lstmkit.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_commands():
    result = lstmkit("--help")
    assert result.returncode == 0
    assert "info" in result.stdout and "inspect" in result.stdout


def test_info_json_is_one_object():
    result = lstmkit("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["torch"] == torch.__version__
    assert info["threads"] >= 1 and info["fused_cpu_backend"] in {"oneDNN", "ATen native"}


def test_user_error_is_one_line_exit_2_without_traceback(tmp_path):
    result = lstmkit("inspect", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: model directory") and "Traceback" not in result.stderr


def test_inspect_reads_a_model_directory(tmp_path):
    save_model(tmp_path / "m", kind="forecaster", config={"hidden_size": 4}, state_dict={"w": torch.zeros(2, 3)})
    result = lstmkit("inspect", str(tmp_path / "m"), "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["kind"] == "forecaster" and shown["parameters"] == 6 and shown["config"] == {"hidden_size": 4}


def test_usage_error_exits_2():
    result = lstmkit("info", "--no-such-flag")
    assert result.returncode == 2 and "No such option" in result.stderr
