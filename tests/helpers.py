"""The lstmkit command run in the test process, exactly as its entry point runs it (the same parsing, error
handling and exit codes), without paying torch's import for every call: several seconds each on 2 cores.
The tests that need a real process (signals, kill -9, the installed entry point) start one."""

import contextlib
import io
import os
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
