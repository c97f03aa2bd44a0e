"""Open Betfair historical stream files by suffix (plain, .gz, .bz2) as byte lines.

The corpus writes `.gz` and the real reference file is `.bz2`; analysis code reads both the same
way. Nothing here parses messages: callers decode each line themselves.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def open_binary(path: str | Path) -> IO[bytes]:
    """The file's decompressed bytes: `.bz2` and `.gz` by suffix, anything else as plain."""
    target = Path(path)
    if target.suffix == ".bz2":
        return bz2.open(target, "rb")
    if target.suffix == ".gz":
        return gzip.GzipFile(target, "rb")  # type: ignore[return-value]
    return target.open("rb")


def iter_lines(path: str | Path) -> Iterator[bytes]:
    """Non-empty lines of a stream file, newline stripped."""
    with open_binary(path) as handle:
        for raw in handle:
            line = raw.strip()
            if line:
                yield line
