"""Stream ids and the deterministic gzip writer."""

from __future__ import annotations

import gzip
from pathlib import Path

from replay.corpus.stream import market_id_for, mcm_line, write_stream_file


def test_market_ids_are_stable_and_well_formed():
    first = market_id_for("2011-usopen-1101")
    assert first == market_id_for("2011-usopen-1101")
    assert first != market_id_for("2011-usopen-1108")
    assert first.startswith("1.9") and len(first) == 11 and first[2:].isdigit()


def test_same_lines_same_bytes(tmp_path: Path):
    lines = [mcm_line("1.9", 1, 1000, [{"id": 1, "atb": [[1.5, 2.0]]}], image=True)]
    write_stream_file(tmp_path / "a.gz", lines)
    write_stream_file(tmp_path / "b.gz", lines)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.gz").read_bytes()).splitlines() == lines
