"""The tutorial examples run as a user runs them and print what their docstrings promise."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(name, cwd):
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_ramp_predicts_about_0_6_after_0_5(tmp_path):
    value = float(re.search(r"after 0.5 the model predicts ([\d.]+)", run("forecast_ramp.py", tmp_path)).group(1))
    assert abs(value - 0.6) < 0.02


@pytest.mark.slow
def test_sine_recursive_ten_steps_follow_the_wave(tmp_path):
    out = run("forecast_sine.py", tmp_path)
    errors = [float(e) for e in re.findall(r"max error vs the true wave ([\d.]+)", out)]
    assert len(errors) == 2 and max(errors) < 0.1


@pytest.mark.slow
def test_stock_example_compares_with_naive(tmp_path):
    out = run("forecast_stock.py", tmp_path)
    assert "naive: RMSE" in out and "skill vs the best baseline" in out
    assert (tmp_path / "runs" / "examples" / "aapl_forecast.png").exists()


@pytest.mark.slow
def test_word_level_english_example_continues_the_prompt(tmp_path):
    out = run("textgen_words_en.py", tmp_path)
    assert "lstm networks are" in out and "test perplexity" in out


@pytest.mark.slow
def test_random_label_classifier_is_at_chance_and_the_rule_is_learned(tmp_path):
    out = run("classify_random.py", tmp_path)
    held_out = [float(a) for a in re.findall(r"held-out accuracy ([\d.]+)", out)]
    assert len(held_out) == 2 and abs(held_out[0] - 0.5) < 0.1 and held_out[1] > 0.8
