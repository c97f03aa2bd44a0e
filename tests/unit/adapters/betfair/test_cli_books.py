import gzip
from pathlib import Path

import orjson

from engine.cli import main

DEFINITION = {
    "status": "OPEN",
    "inPlay": True,
    "runners": [{"id": 1, "status": "ACTIVE"}, {"id": 2, "status": "ACTIVE"}],
}


def _write_file(path: Path) -> None:
    lines: list[dict[str, object] | str] = [
        {
            "op": "mcm",
            "pt": 10,
            "clk": "a",
            "mc": [{"id": "1.7", "img": True, "marketDefinition": DEFINITION}],
        },
        {
            "op": "mcm",
            "pt": 11,
            "clk": "b",
            "mc": [
                {
                    "id": "1.7",
                    "rc": [
                        {
                            "id": 1,
                            "atb": [[1.5, 10], [1.6, 5], [1.55, 7]],
                            "atl": [[1.7, 3], [1.65, 2], [1.8, 1]],
                            "ltp": 1.6,
                            "tv": 120.5,
                        }
                    ],
                }
            ],
        },
        {"op": "status", "statusCode": "SUCCESS"},
        "this line is not json",
    ]
    raw = b"".join(
        (orjson.dumps(line) if isinstance(line, dict) else line.encode()) + b"\n" for line in lines
    )
    path.write_bytes(gzip.compress(raw))


def test_books_prints_one_json_book_per_update_best_first(tmp_path, capsysbinary):
    path = tmp_path / "market.gz"
    _write_file(path)

    status = main(["stream", "books", str(path), "--depth", "2"])

    assert status == 0
    books = [orjson.loads(line) for line in capsysbinary.readouterr().out.splitlines()]
    assert [book["pt"] for book in books] == [10, 11]
    last = books[-1]
    assert (last["market_id"], last["status"], last["inplay"]) == ("1.7", "OPEN", True)
    first_runner = last["runners"][0]
    assert first_runner == {
        "id": 1,
        "status": "ACTIVE",
        "ltp": 1.6,
        "tv": 120.5,
        "back": [[1.6, 5.0], [1.55, 7.0]],
        "lay": [[1.65, 2.0], [1.7, 3.0]],
    }
    assert last["runners"][1]["back"] == [] and last["runners"][1]["ltp"] is None


def test_books_on_the_order_file_prints_nothing_and_succeeds(shared_data, capsysbinary):
    path = shared_data / "betfair" / "historical" / "ORDER-1.177596575"

    status = main(["stream", "books", str(path)])

    assert status == 0
    assert capsysbinary.readouterr().out == b""


def test_books_on_the_tennis_file_prints_every_update(shared_data, capsysbinary):
    path = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"

    status = main(["stream", "books", str(path), "--depth", "3"])

    assert status == 0
    lines = capsysbinary.readouterr().out.splitlines()
    assert len(lines) == 15788
    book = orjson.loads(lines[8000])
    for runner in book["runners"]:
        backs = [price for price, _ in runner["back"]]
        lays = [price for price, _ in runner["lay"]]
        assert backs == sorted(backs, reverse=True) and len(backs) <= 3
        assert lays == sorted(lays) and len(lays) <= 3
    assert orjson.loads(lines[-1])["status"] == "CLOSED"


def test_books_refuses_a_missing_file_and_a_bad_depth(tmp_path, capsys):
    assert main(["stream", "books", str(tmp_path / "nope.bz2")]) == 2
    assert "does not exist" in capsys.readouterr().err

    path = tmp_path / "market.gz"
    _write_file(path)
    assert main(["stream", "books", str(path), "--depth", "0"]) == 2
    assert "depth" in capsys.readouterr().err
