"""The one reader of user table files (CSV, TSV, Parquet): every task's file data comes through here."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lstmkit.errors import UserError

SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq")


def read_file(source: str | os.PathLike, known: str = "", text: bool = False) -> pd.DataFrame:
    """A table file as a DataFrame; ``text=True`` keeps every cell a string (labelled texts).

    ``known`` lists the bundled names for the error when ``source`` is neither one nor a file."""
    path = Path(source)
    if not path.is_file():
        bundled = f"a bundled dataset ({known})" if known else "a bundled dataset"
        raise UserError(f"data={str(source)!r} is neither {bundled} nor an existing file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"data={str(source)!r}: unsupported file type {suffix!r}; give a .csv, .tsv or .parquet file")
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if suffix in (".tsv", ".tab") else ","
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""]) if text else pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise UserError(f"data={str(source)!r} is empty; give a file with a header row and at least one data row") from None
    except UnicodeDecodeError:
        raise UserError(f"data={str(source)!r} is not UTF-8; convert it, e.g. iconv -f GBK -t UTF-8") from None
    except (pd.errors.ParserError, OSError, ValueError) as e:
        kind = suffix.lstrip(".") or "CSV"
        raise UserError(f"data={str(source)!r} could not be read as {kind}: {str(e).splitlines()[0]}") from None
    if frame.empty:
        raise UserError(f"data={str(source)!r} has no data rows; give a file with at least one row below the header")
    return frame


def source_name(data: str, bundled) -> str:
    """How a run records where its data came from: a bundled name as it is, a file as its absolute path (so
    that ./a.csv and a.csv are the same data)."""
    return data if data in bundled or not Path(data).exists() else str(Path(data).resolve())
