"""Run every example the documentation shows and keep what it printed and drew, for `make docs`.

An example is a Python script (run as a user runs it; its stdout is kept) or a command-line transcript,
``examples/cli/NAME.sh``: one command per line, each kept as ``$ command`` followed by what it printed
on stdout. A command that is meant to fail ends in ``# exits N``; its exit code is checked and its stderr
(the one-line error) is kept instead. Anything else that fails stops the run with its stderr.

Each example runs in a scratch folder of its own (build/docs-run/NAME, where examples/ links to this
folder, so commands read as if run from the repository root). Output goes to
docs/generated/NAME.txt and every PNG it drew to docs/generated/NAME/ under the same relative path, so
the pages include the code, the output and the figures of one run, never text pasted by hand.
A kept result is reused while what it depends on is unchanged: the example's file and the scripts its
transcript runs, its arguments, lstmkit's sources, constraints.txt, pyproject.toml and this runner
(docs/generated/NAME.sha256); `--force` reruns everything, as CI's clean clone does anyway.

Run: .venv/bin/python examples/run_for_docs.py [--force] [NAME ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "generated"
SCRATCH = ROOT / "build" / "docs-run"
TIMEOUT_S = 600

# name -> (file under examples/, arguments). The pages include examples/FILE and docs/generated/NAME.txt.
EXAMPLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lstm_gates": ("lstm_gates.py", ()),
    "forecast_ramp": ("forecast_ramp.py", ()),
    "article_sine_loop": ("article_sine_loop.py", ()),
    "forecast_sine": ("forecast_sine.py", ()),
    "cli_sine": ("cli/sine.sh", ()),
    "forecast_stock": ("forecast_stock.py", ()),
    "cli_stock": ("cli/stock.sh", ()),
    "forecast_known_ahead": ("forecast_known_ahead.py", ()),
    "textgen_words_en": ("textgen_words_en.py", ()),
    "textgen_words_zh": ("textgen_words_zh.py", ()),
    "textgen_chars_zh": ("textgen_chars_zh.py", ()),
    "cli_textgen": ("cli/textgen.sh", ()),
    "classify_random": ("classify_random.py", ()),
    "classify_sentiment": ("classify_sentiment.py", ("--minutes", "0.3", "--corpus", "sentiment_en")),
    "cli_classify": ("cli/classify.sh", ()),
    "cli_ner": ("cli/ner.sh", ()),
    "cli_anomaly": ("cli/anomaly.sh", ()),
    "cli_panel": ("cli/panel.sh", ()),
    "panel_stocks": ("panel_stocks.py", ()),
    "cli_errors": ("cli/errors.sh", ()),
    "export_onnx": ("export_onnx.py", ()),
    "cli_export": ("cli/export.sh", ()),
    "cli_explain": ("cli/explain.sh", ()),
}

EXPECTED_EXIT = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")


def sources_digest() -> str:
    """One hash of lstmkit's sources: a change anywhere in the package reruns every example."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "lstmkit").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def shown_files(file: str) -> list[Path]:
    """The example's file and, for a transcript, the examples/ scripts its commands run."""
    path = ROOT / "examples" / file
    called = re.findall(r"examples/[\w/]+\.py", path.read_text()) if path.suffix == ".sh" else []
    return [path, *(ROOT / script for script in sorted(set(called)))]


def example_digest(name: str, package: str) -> str:
    """What a kept result depends on: the files shown, their arguments, lstmkit, the pinned versions and this runner."""
    file, args = EXAMPLES[name]
    texts = [path.read_text() for path in [*shown_files(file), ROOT / "constraints.txt", ROOT / "pyproject.toml", Path(__file__)]]
    return hashlib.sha256("\0".join([package, *texts, *args]).encode()).hexdigest()


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's lstmkit
    env["MPLBACKEND"] = "Agg"
    env["COLUMNS"] = "100"  # help and tables wrap the same way on every terminal
    return env


def run_command(command: list[str] | str, cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            command, shell=isinstance(command, str), cwd=cwd, env=environment(), capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{command} did not finish in {TIMEOUT_S} s") from None


def run_script(path: Path, args: tuple[str, ...], cwd: Path) -> str:
    result = run_command([sys.executable, str(path), *args], cwd)
    if result.returncode != 0:
        raise SystemExit(f"{path.name} failed (exit {result.returncode}):\n{result.stderr}")
    return result.stdout


def run_transcript(path: Path, cwd: Path) -> str:
    kept = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expected = EXPECTED_EXIT.search(line)
        command = EXPECTED_EXIT.sub("", line)
        result = run_command(command, cwd)
        want = int(expected.group(1)) if expected else 0
        if result.returncode != want:
            raise SystemExit(f"{path.name}: `{command}` exited {result.returncode}, expected {want}:\n{result.stderr}")
        printed = result.stderr if expected else result.stdout
        kept.append(f"$ {command}\n{printed.rstrip()}" + (f"\n(exit code {want})" if expected else ""))
    return "\n\n".join(kept) + "\n"


def run(name: str) -> float:
    """Run one example and keep its output and figures; its stamp goes first, so an interrupted run is redone."""
    (GENERATED / f"{name}.sha256").unlink(missing_ok=True)
    file, args = EXAMPLES[name]
    path = ROOT / "examples" / file
    cwd = SCRATCH / name
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir(parents=True)
    (cwd / "examples").symlink_to(ROOT / "examples")  # commands read as if run from the repository root
    start = time.perf_counter()
    output = run_transcript(path, cwd) if path.suffix == ".sh" else run_script(path, args, cwd)
    seconds = time.perf_counter() - start
    figures = GENERATED / name
    shutil.rmtree(figures, ignore_errors=True)
    for png in sorted(p for p in cwd.rglob("*.png") if p.relative_to(cwd).parts[0] != "examples"):
        target = figures / png.relative_to(cwd)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, target)
    write_atomically(GENERATED / f"{name}.txt", output)
    return seconds


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"examples to run (default: all): {', '.join(EXAMPLES)}")
    parser.add_argument("--force", action="store_true", help="rerun examples whose kept result is up to date")
    options = parser.parse_args()
    unknown = sorted(set(options.names) - set(EXAMPLES))
    if unknown:
        parser.error(f"unknown example(s) {', '.join(unknown)}; choose from {', '.join(EXAMPLES)}")
    for stale in GENERATED.glob("*") if GENERATED.exists() else []:  # left by examples no longer listed
        if stale.name.split(".")[0] not in EXAMPLES:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    package = sources_digest()
    total = 0.0
    for name in options.names or EXAMPLES:
        stamp = GENERATED / f"{name}.sha256"
        digest = example_digest(name, package)
        if not options.force and stamp.exists() and stamp.read_text() == digest and (GENERATED / f"{name}.txt").exists():
            print(f"{name:>20}: up to date")
            continue
        seconds = run(name)
        total += seconds
        write_atomically(stamp, digest)
        print(f"{name:>20}: ran in {seconds:.1f} s", flush=True)
    print(f"examples ran in {total:.0f} s")


if __name__ == "__main__":
    main()
