"""The lstmkit command run in the test process, exactly as its entry point runs it (the same parsing, error
handling and exit codes), without paying torch's import for every call: several seconds each on 2 cores.
The tests that need a real process (signals, kill -9, the installed entry point) start one."""

import contextlib
import io
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from lstmkit.cli import main


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, cwd=None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd, saved_columns = sys.argv, os.getcwd(), os.environ.get("COLUMNS")
    code = 0
    try:
        sys.argv = ["lstmkit", *map(str, args)]
        os.environ["COLUMNS"] = "250"  # --help is not cut to a terminal's width
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    return Result(code, out.getvalue(), err.getvalue())


def run_process_group(args: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(args, capture_output=True, text=True)`` for a command that starts processes of its
    own (torchrun's workers): past ``timeout`` every process of the group prints its Python stack
    (faulthandler, on SIGABRT), the group is killed and the test fails with what they printed.
    subprocess.run kills only the launcher, and its workers, still holding the pipes, keep the wait for
    output from ever ending."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "1", **kwargs.pop("env", {})}
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env, **kwargs
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGABRT)
            try:
                out, err = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                out, err = process.communicate()
            raise AssertionError(f"{' '.join(args)} ran past {timeout} s; it printed:\n{out[-2000:]}\n{err[-6000:]}") from None
    return subprocess.CompletedProcess(args, process.returncode, out, err)
