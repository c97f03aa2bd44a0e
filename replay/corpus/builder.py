"""Build the corpus: per match a score-tick file, a simulated Betfair stream file and match.json.

Output layout (OUT/):
    matches.jsonl                 one line per built match (the index), sorted by match id
    build.json                    the build's seed, parameters and fitted duration model
    <match_id>/ticks.jsonl        score ticks, schema v1 (adapters.scores.tickfile)
    <match_id>/<market_id>.gz     Betfair historical stream (MATCH_ODDS, 2 runners)
    <match_id>/match.json         static info, ids, hidden truth, synthetic events

Deterministic: every random draw of a match comes from generators seeded by
sha256(seed, match_id, purpose), so the same seed gives the same bytes whatever the worker count
or the order matches are built in. Matches are independent, so they fan out over processes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from adapters.scores.tickfile import write_ticks
from engine.logs import get_logger
from replay.corpus.durations import DurationModel, fit_duration_model
from replay.corpus.params import CorpusParams
from replay.corpus.simulate import SimulatedMarket, simulate_market
from replay.corpus.slams import MatchInfo, MatchPoints, load_matches, load_points
from replay.corpus.stream import market_id_for, selection_ids_for, write_stream_file
from replay.corpus.timeline import build_ticks, build_timeline
from replay.corpus.truth import fair_paths, hidden_truth

_log = get_logger("corpus.builder")


def match_rng(seed: int, match_id: str, purpose: str) -> np.random.Generator:
    """A generator that depends only on (seed, match id, purpose)."""
    digest = hashlib.sha256(f"{seed}:{match_id}:{purpose}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


@dataclass(frozen=True, slots=True)
class BuiltMatch:
    """One index line."""

    match_id: str
    market_id: str
    n_points: int
    n_messages: int
    stream_file: str
    synthetic_events: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "match_id": self.match_id,
            "market_id": self.market_id,
            "n_points": self.n_points,
            "n_messages": self.n_messages,
            "ticks": f"{self.match_id}/ticks.jsonl",
            "stream": f"{self.match_id}/{self.stream_file}",
            "match": f"{self.match_id}/match.json",
            "synthetic_events": self.synthetic_events,
        }


@dataclass(frozen=True, slots=True)
class MatchBuild:
    """Everything built for one match, in memory (the builder writes it; tests inspect it)."""

    info: MatchInfo
    ticks: list[Any]
    market: SimulatedMarket
    static: dict[str, Any]


def build_match(
    info: MatchInfo, points: MatchPoints, model: DurationModel, params: CorpusParams, seed: int
) -> MatchBuild:
    """Timeline, ticks, hidden truth and simulated market of one match (pure: no files)."""
    timeline = build_timeline(
        info, points, model, params.events, match_rng(seed, info.match_id, "events")
    )
    ticks = build_ticks(info, points, timeline)
    mto = timeline.mto
    truth = hidden_truth(
        info,
        params.market,
        params.events,
        (mto.player, mto.after_point) if mto is not None and mto.player else None,
        match_rng(seed, info.match_id, "truth"),
    )
    fair = fair_paths(info, points, truth, params.market)
    market_id = market_id_for(info.match_id)
    ids = selection_ids_for(info)
    market = simulate_market(
        info,
        points,
        timeline,
        fair,
        params=params.market,
        rng=match_rng(seed, info.match_id, "market"),
        market_id=market_id,
        selection_ids=ids,
    )
    static = {
        "match_id": info.match_id,
        "tour": info.tour,
        "slam": info.slam,
        "year": info.year,
        "surface": info.surface,
        "round": info.round,
        "match_date": info.match_date,
        "best_of": info.best_of,
        "final_set_rule": info.final_set_rule,
        "players": [info.player1, info.player2],
        "sackmann_ids": [info.p1_sackmann_id, info.p2_sackmann_id],
        "winner": info.winner,
        "score": info.score,
        "retired": info.retired,
        "first_server": info.first_server,
        "prematch_odds": {"p1": info.odds_p1, "p2": info.odds_p2, "source": info.odds_source},
        "n_points": len(points),
        "clock": timeline.clock,
        "market_id": market_id,
        "selection_ids": list(ids),
        "inplay_ts": round(market.inplay_ts, 3),
        "close_ts": round(market.close_ts, 3),
        "first_point_ts": round(float(timeline.point_start_ts[0]), 3),
        "hidden_truth": truth.as_dict(),
        "synthetic_events": [stop.as_dict() for stop in timeline.stoppages],
        "market_regimes": market.regimes,
        "synthetic_note": (
            "point outcomes are real; start times, inter-point times where clock is 'model', "
            "MTOs, rain/bad-light suspensions, the hidden truth and the whole market are synthetic"
        ),
    }
    return MatchBuild(info=info, ticks=ticks, market=market, static=static)


def write_match(build: MatchBuild, out_dir: Path) -> BuiltMatch:
    """Write one match's three files; returns its index line."""
    folder = out_dir / build.info.match_id
    folder.mkdir(parents=True, exist_ok=True)
    write_ticks(folder / "ticks.jsonl", build.ticks)
    stream_name = f"{build.market.market_id}.gz"
    write_stream_file(folder / stream_name, build.market.lines)
    (folder / "match.json").write_bytes(
        orjson.dumps(
            build.static,
            option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY,
        )
        + b"\n"
    )
    return BuiltMatch(
        match_id=build.info.match_id,
        market_id=build.market.market_id,
        n_points=int(build.static["n_points"]),
        n_messages=len(build.market.lines),
        stream_file=stream_name,
        synthetic_events=len(build.static["synthetic_events"]),
    )


# --------------------------------------------------------------------------- worker plumbing

_STATE: dict[str, Any] = {}


def _init_worker(
    points: dict[str, MatchPoints], model: DurationModel, params: CorpusParams, seed: int, out: str
) -> None:
    from engine.logs import configure_logging

    configure_logging("WARNING", json=True)
    _STATE.update(points=points, model=model, params=params, seed=seed, out=Path(out))


def _build_one(info: MatchInfo) -> dict[str, Any]:
    build = build_match(
        info, _STATE["points"][info.match_id], _STATE["model"], _STATE["params"], _STATE["seed"]
    )
    return write_match(build, _STATE["out"]).as_dict()


def select_matches(
    infos: Sequence[MatchInfo], count: int | None, match_ids: Iterable[str] | None = None
) -> list[MatchInfo]:
    """The first `count` matches by id (all when None), or exactly the named ones."""
    if match_ids is not None:
        wanted = set(match_ids)
        chosen = [info for info in infos if info.match_id in wanted]
        missing = wanted - {info.match_id for info in chosen}
        if missing:
            raise ValueError(f"match_ids: not in the consistent slam set: {sorted(missing)[:3]}")
        return chosen
    return list(infos) if count is None else list(infos[:count])


ProgressFn = Callable[[int, int], None]


def stderr_progress(done: int, total: int) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\rcorpus [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def build_corpus(
    slams_dir: str | Path,
    out_dir: str | Path,
    *,
    count: int | None = None,
    match_ids: Iterable[str] | None = None,
    seed: int = 0,
    workers: int = 1,
    params: CorpusParams | None = None,
    progress: ProgressFn | None = None,
) -> list[dict[str, Any]]:
    """Build the corpus; returns the index lines.

    The duration model is fitted on every consistent match with a clock, whatever subset is built,
    so a match gets the same bytes in a subset as in a full build.
    """
    started = time.perf_counter()
    params = params or CorpusParams()
    infos = load_matches(slams_dir)
    chosen = select_matches(infos, count, match_ids)
    all_points = load_points(slams_dir, {info.match_id for info in infos})
    model = fit_duration_model(
        (info, all_points[info.match_id]) for info in infos if info.match_id in all_points
    )
    chosen = [info for info in chosen if info.match_id in all_points]
    points = {info.match_id: all_points[info.match_id] for info in chosen}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    total = len(chosen)
    if progress:
        progress(0, total)
    if workers <= 1:
        _init_worker(points, model, params, seed, str(out))
        for info in chosen:
            results.append(_build_one(info))
            if progress:
                progress(len(results), total)
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(
            workers, initializer=_init_worker, initargs=(points, model, params, seed, str(out))
        ) as pool:
            for line in pool.imap_unordered(_build_one, chosen, chunksize=1):
                results.append(line)
                if progress:
                    progress(len(results), total)
    results.sort(key=lambda line: str(line["match_id"]))
    with (out / "matches.jsonl").open("wb") as index:
        for line in results:
            index.write(orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n")
    build_info = {
        "seed": seed,
        "matches": len(results),
        "params": params.as_dict(),
        "duration_model": model.as_dict(),
        "source": "Jeff Sackmann / Tennis Abstract point-by-point (CC BY-NC-SA 4.0), "
        "tennis-data.co.uk pre-match odds",
    }
    (out / "build.json").write_text(json.dumps(build_info, indent=2, sort_keys=True) + "\n")
    _log.info(
        "corpus_built",
        matches=len(results),
        messages=sum(int(line["n_messages"]) for line in results),
        seconds=round(time.perf_counter() - started, 2),
        out=str(out),
    )
    return results
