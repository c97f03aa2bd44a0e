"""Align a corpus into one Parquet row per point: score, market, MTO/suspension flags, physics
fair price and the labels `market_prob` / `fair_prob` (blueprint §3, adapted; docs in
ALIGNED_SCHEMA and training/align_labels.py).

Input layout (what `courtside corpus build` writes, and what a user's own recordings must look
like): DIR/matches.jsonl, one JSON object per match with `match_id`, `ticks` (score-tick file),
`stream` (Betfair stream file, plain/gz/bz2/xz), `match` (match.json) and `market_id`, paths
relative to DIR. match.json needs `tour` (ATP/WTA), `surface` and `selection_ids` [p1, p2]
(Betfair selection ids in the score feed's player order); `prematch_odds` {p1, p2} is optional —
without it the pre-match line is the book's mid just before the first point.

Timing (the contract of engine/features/match.py): row i is point i, which ENDED at tick time
t_i. Its book columns are the book as last seen at t_i (every message with pt <= t_i applied),
through the product's own stream processor and market cache. Its label is the market once it
has reacted to the point: the book as last seen at min(t_{i+1}, t_i + LABEL_DELAY_S) — just
before the next point ends — so a row's book never contains its own label. The match-winning
point has no row (the score after it cannot be priced; the market settles), so a completed match
gives n_points - 1 rows and a retired one n_points.

Bytes are deterministic: matches in sorted id order, rows in point order, a fixed schema, zstd,
no timestamps in the metadata.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.scores.tickfile import read_ticks
from engine.features.liquidity import is_collapse
from engine.features.schema import SCHEMA_HASH
from engine.logs import get_logger
from engine.physics.calibration import PhysicsConfig, load_physics_config
from engine.physics.devig import devig
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState
from engine.score.machine import MatchScoreMachine
from engine.score.stats import TickOutcome
from engine.score.ticks import MatchStart, MtoStart, Point, Suspend
from training.align_fair import FairPricer
from training.align_labels import is_distress, market_prob, total_depth
from training.align_market import BookSnapshot, snapshots_at

log = get_logger(__name__)

ALIGN_VERSION: Final = 1
LABEL_DELAY_S: Final = 60.0
NO_MTO: Final = 99

# name, type, meaning — the Parquet schema and its documentation in one place
ALIGNED_SCHEMA: Final[tuple[tuple[str, pa.DataType, str], ...]] = (
    ("match_id", pa.string(), "corpus match id"),
    ("point_idx", pa.int32(), "0-based index of the point in the match"),
    ("ts", pa.float64(), "time the point ended (score-tick ts, epoch seconds)"),
    ("p1", pa.string(), "player 1 (score feed order)"),
    ("p2", pa.string(), "player 2"),
    ("tour", pa.string(), "ATP or WTA"),
    ("surface", pa.string(), "hard / clay / grass / carpet"),
    ("best_of", pa.int8(), "3 or 5"),
    ("final_set", pa.string(), "deciding-set rule (adv, tb7@6, tb7@12, tb10@6)"),
    ("no_ad", pa.bool_(), "no-advantage scoring"),
    ("pre_match_prob", pa.float64(), "de-vigged pre-match P(player 1 wins) (static feature)"),
    ("closing_logit", pa.float64(), "logit of pre_match_prob (blueprint column)"),
    ("server", pa.int8(), "who served this point (1/2)"),
    ("winner", pa.int8(), "who won it (1/2)"),
    ("next_server", pa.int8(), "who serves the next point"),
    ("p1_sets", pa.int8(), "score AFTER the point: sets won by player 1"),
    ("p2_sets", pa.int8(), "sets won by player 2"),
    ("p1_games", pa.int8(), "games of player 1 in the current set"),
    ("p2_games", pa.int8(), "games of player 2 in the current set"),
    ("p1_points", pa.int8(), "points of player 1 in the game or tiebreak (3-3 deuce, 4-3 ad)"),
    ("p2_points", pa.int8(), "points of player 2"),
    ("in_tiebreak", pa.bool_(), "the next point is a tiebreak point"),
    ("mto_before", pa.bool_(), "a medical time-out started since the previous point"),
    ("mto_flag", pa.int8(), "1 once an MTO has occurred in the match"),
    ("pts_since_mto", pa.int16(), "points since the last MTO (0 = first point after it), 99 none"),
    ("score_suspended", pa.bool_(), "the score feed reported a suspension since the last point"),
    ("fair_prob", pa.float64(), "physics P(player 1 wins) after the point (label + feature)"),
    ("fair_if_p1_wins", pa.float64(), "physics price if player 1 wins the next point"),
    ("fair_if_p1_loses", pa.float64(), "physics price if player 1 loses the next point"),
    (
        "fair_before",
        pa.float64(),
        "physics P(player 1 wins) before the point: after the previous one, at 0-0 on the first",
    ),
    ("book_present", pa.bool_(), "the market and both runners were known at ts"),
    ("suspended_flag", pa.bool_(), "market status SUSPENDED at ts"),
    ("inplay", pa.bool_(), "market in play at ts"),
    ("best_back", pa.float64(), "player 1 best back price at ts (null if none)"),
    ("best_back_size", pa.float64(), "£ at the best back price"),
    ("best_lay", pa.float64(), "player 1 best lay price (null if none)"),
    ("best_lay_size", pa.float64(), "£ at the best lay price"),
    ("back_price_50", pa.float64(), "price_for_£50 on the back side at ts (null if unfillable)"),
    ("lay_price_50", pa.float64(), "price_for_£50 on the lay side at ts (null if unfillable)"),
    ("cum_size_back3", pa.float64(), "£ on the best 3 back prices"),
    ("cum_size_lay3", pa.float64(), "£ on the best 3 lay prices"),
    ("ltp", pa.float64(), "player 1 last traded price (null if none)"),
    ("traded", pa.float64(), "player 1 cumulative matched £"),
    ("p2_best_back", pa.float64(), "player 2 best back price (null if none)"),
    ("p2_best_lay", pa.float64(), "player 2 best lay price (null if none)"),
    ("spread_ticks", pa.int16(), "player 1 best lay - best back in ladder ticks"),
    ("liq_collapse", pa.bool_(), "top-3 depth < 25% of the match median so far (at ts)"),
    ("label_ts", pa.float64(), "time of the label snapshot"),
    ("price_for_50", pa.float64(), "label snapshot: price_for_£50, back side (null if unfillable)"),
    ("lay_price_for_50", pa.float64(), "label snapshot: price_for_£50, lay side"),
    ("market_prob", pa.float64(), "emulator label (training/align_labels.py)"),
    ("label_carried", pa.bool_(), "label snapshot had no price: previous label carried"),
    ("distress", pa.int8(), "distress label (training/align_labels.py)"),
)
ARROW_SCHEMA: Final = pa.schema(
    [pa.field(name, kind) for name, kind, _ in ALIGNED_SCHEMA],
    metadata={
        "courtside.align_version": str(ALIGN_VERSION),
        "courtside.feature_schema_hash": SCHEMA_HASH,
    },
)
COLUMN_NAMES: Final = tuple(name for name, _, _ in ALIGNED_SCHEMA)


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    match_id: str
    ticks: Path
    stream: Path
    match: Path
    market_id: str


@dataclass(slots=True)
class AlignReport:
    """What align did: matches aligned/skipped (with reasons) and rows written."""

    matches: int = 0
    rows: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    carried_labels: int = 0


def read_index(corpus: Path) -> list[CorpusEntry]:
    """The corpus index, sorted by match id; ValueError names a bad line."""
    index = corpus / "matches.jsonl"
    if not index.is_file():
        raise FileNotFoundError(f"corpus index not found: {index}")
    entries: list[CorpusEntry] = []
    for n, line in enumerate(index.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            entries.append(
                CorpusEntry(
                    match_id=str(obj["match_id"]),
                    ticks=corpus / str(obj["ticks"]),
                    stream=corpus / str(obj["stream"]),
                    match=corpus / str(obj["match"]),
                    market_id=str(obj["market_id"]),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"matches.jsonl:{n}: {exc}") from None
    return sorted(entries, key=lambda e: e.match_id)


@dataclass(frozen=True, slots=True)
class PlayedPoint:
    ts: float
    server: int
    winner: int
    after: tuple[int, int, int, int, int, int, int, bool]  # server, sets, games, points, tb
    mto_before: bool
    pts_since_mto: int | None
    score_suspended: bool


@dataclass(frozen=True, slots=True)
class ScoreTrack:
    start: MatchStart
    points: list[PlayedPoint]
    problem: str | None  # why the track stops early (score feed untrusted), None if clean


def score_track(entry: CorpusEntry) -> ScoreTrack | None:
    """The points of a match through the score state machine; None without a match_start."""
    machine = MatchScoreMachine(entry.match_id)
    start: MatchStart | None = None
    points: list[PlayedPoint] = []
    mto_pending = suspend_pending = False
    mto_index: int | None = None
    problem: str | None = None
    for tick in read_ticks(entry.ticks):
        outcome = machine.apply(tick)
        if outcome == TickOutcome.DUPLICATE:
            continue
        if outcome != TickOutcome.APPLIED:
            problem = f"score feed {outcome.value} at seq {tick.seq}"
            break
        if isinstance(tick, MatchStart):
            start = tick
        elif isinstance(tick, MtoStart):
            mto_pending = True
        elif isinstance(tick, Suspend):
            suspend_pending = True
        elif isinstance(tick, Point):
            score = machine.score
            if score is None:
                continue
            if mto_pending:
                mto_index = 0
            after = (
                score.server,
                score.sets[0],
                score.sets[1],
                score.games[0],
                score.games[1],
                score.points[0],
                score.points[1],
                score.tiebreak,
            )
            points.append(
                PlayedPoint(
                    ts=tick.ts,
                    server=tick.server,
                    winner=tick.winner,
                    after=after,
                    mto_before=mto_pending,
                    pts_since_mto=mto_index,
                    score_suspended=suspend_pending,
                )
            )
            if mto_index is not None:
                mto_index += 1
            mto_pending = suspend_pending = False
            if score.is_complete:
                break
    if start is None:
        return None
    return ScoreTrack(start=start, points=points, problem=problem)


def _match_info(entry: CorpusEntry) -> dict[str, Any]:
    info = json.loads(entry.match.read_text(encoding="utf-8"))
    if not isinstance(info, dict):
        raise ValueError(f"{entry.match.name}: expected a JSON object")
    for key in ("tour", "surface", "selection_ids"):
        if key not in info:
            raise ValueError(f"{entry.match.name}.{key}: missing")
    ids = info["selection_ids"]
    if not (isinstance(ids, list) and len(ids) == 2):
        raise ValueError(f"{entry.match.name}.selection_ids: expected [p1, p2]")
    return info


def _prematch_odds(info: dict[str, Any], book: BookSnapshot) -> tuple[float, float]:
    odds = info.get("prematch_odds")
    if isinstance(odds, dict) and odds.get("p1") and odds.get("p2"):
        return float(odds["p1"]), float(odds["p2"])
    prob = market_prob(book)
    if prob is None or not 0.0 < prob < 1.0:
        raise ValueError("prematch_odds: missing, and the book has no price before the first point")
    return 1.0 / prob, 1.0 / (1.0 - prob)


def _logit(p: float) -> float:
    q = min(max(p, 1e-9), 1.0 - 1e-9)
    return math.log(q / (1.0 - q))


def align_match(entry: CorpusEntry, config: PhysicsConfig) -> list[dict[str, Any]]:
    """The rows of one match (empty when nothing can be aligned; reasons are logged)."""
    info = _match_info(entry)
    track = score_track(entry)
    if track is None:
        raise ValueError(f"{entry.ticks.name}: no match_start tick")
    if track.problem is not None:
        log.warning("score feed problem; match cut", match_id=entry.match_id, problem=track.problem)
    rules: MatchRules = track.start.rules
    played = [p for p in track.points if not _is_over(p, rules)]
    if not played:
        return []
    times = [p.ts for p in played]
    label_times = [
        min(times[i + 1], t + LABEL_DELAY_S) if i + 1 < len(times) else t + LABEL_DELAY_S
        for i, t in enumerate(times)
    ]
    if len(played) < len(track.points):  # the match-winning point: label just before it
        final_ts = track.points[len(played)].ts
        label_times[-1] = min(label_times[-1], final_ts)
    p1_id, p2_id = (int(x) for x in info["selection_ids"])
    queries = [*times, *label_times, track.start.ts]
    snaps = snapshots_at(entry.stream, entry.market_id, p1_id, p2_id, queries)
    books, labels, start_book = snaps[: len(times)], snaps[len(times) : -1], snaps[-1]
    odds_p1, odds_p2 = _prematch_odds(info, start_book)
    tour, surface = str(info["tour"]), str(info["surface"])
    pricer = FairPricer(odds_p1, odds_p2, rules=rules, tour=tour, surface=surface, config=config)
    pre = devig(odds_p1, odds_p2, config.devig)[0]
    rows: list[dict[str, Any]] = []
    depths: list[float] = []
    prev_label: float | None = None
    mto_seen = False
    fair_before = pricer.opening_fair
    for i, (point, book, label) in enumerate(zip(played, books, labels, strict=True)):
        server_next, s1, s2, g1, g2, q1, q2, tb = point.after
        state = MatchState(sets=(s1, s2), games=(g1, g2), points=(q1, q2), server=server_next)
        fair = pricer.after_point(point.server, point.winner, state)
        before, fair_before = fair_before, fair.fair_prob
        if book.present:
            depths.append(total_depth(book))
        collapse = book.present and is_collapse(total_depth(book), depths)
        prob = market_prob(label)
        carried = prob is None
        if prob is None:
            prob = prev_label if prev_label is not None else market_prob(book)
        if prob is None:
            log.warning("no market price yet; point skipped", match_id=entry.match_id, point=i)
            continue
        prev_label = prob
        mto_seen = mto_seen or point.mto_before
        rows.append(
            {
                "match_id": entry.match_id,
                "point_idx": i,
                "ts": point.ts,
                "p1": track.start.players[0],
                "p2": track.start.players[1],
                "tour": tour,
                "surface": surface.strip().lower(),
                "best_of": rules.best_of,
                "final_set": rules.final_set,
                "no_ad": rules.no_ad,
                "pre_match_prob": pre,
                "closing_logit": _logit(pre),
                "server": point.server,
                "winner": point.winner,
                "next_server": server_next,
                "p1_sets": s1,
                "p2_sets": s2,
                "p1_games": g1,
                "p2_games": g2,
                "p1_points": q1,
                "p2_points": q2,
                "in_tiebreak": tb,
                "mto_before": point.mto_before,
                "mto_flag": int(mto_seen),
                "pts_since_mto": NO_MTO
                if point.pts_since_mto is None
                else min(point.pts_since_mto, NO_MTO),
                "score_suspended": point.score_suspended,
                "fair_prob": fair.fair_prob,
                "fair_if_p1_wins": fair.if_p1_wins,
                "fair_if_p1_loses": fair.if_p1_loses,
                "fair_before": before,
                "book_present": book.present,
                "suspended_flag": book.suspended,
                "inplay": book.inplay,
                "best_back": book.back_price,
                "best_back_size": book.back_size,
                "best_lay": book.lay_price,
                "best_lay_size": book.lay_size,
                "back_price_50": book.back_price_50,
                "lay_price_50": book.lay_price_50,
                "cum_size_back3": book.back_depth,
                "cum_size_lay3": book.lay_depth,
                "ltp": book.ltp,
                "traded": book.traded,
                "p2_best_back": book.p2_back_price,
                "p2_best_lay": book.p2_lay_price,
                "spread_ticks": book.spread_ticks,
                "liq_collapse": collapse,
                "label_ts": label_times[i],
                "price_for_50": label.back_price_50,
                "lay_price_for_50": label.lay_price_50,
                "market_prob": prob,
                "label_carried": carried,
                "distress": int(is_distress(label, depths)),
            }
        )
    return rows


def _is_over(point: PlayedPoint, rules: MatchRules) -> bool:
    _, s1, s2, *_ = point.after
    return max(s1, s2) >= rules.sets_to_win


def _align_one(args: tuple[CorpusEntry, PhysicsConfig]) -> tuple[str, list[dict[str, Any]], str]:
    entry, config = args
    try:
        return entry.match_id, align_match(entry, config), ""
    except (ValueError, FileNotFoundError, OSError) as exc:
        return entry.match_id, [], str(exc)


def _aligned(
    entries: Sequence[CorpusEntry], config: PhysicsConfig, workers: int
) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    jobs = [(e, config) for e in entries]
    if workers <= 1:
        yield from map(_align_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_align_one, jobs, chunksize=4)


def rows_to_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    columns = {name: [row[name] for row in rows] for name in COLUMN_NAMES}
    return pa.Table.from_pydict(columns, schema=ARROW_SCHEMA)


def write_aligned(table: pa.Table, out: Path) -> None:
    """zstd Parquet with deterministic bytes (fixed schema and options, no timestamps)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        out,
        compression="zstd",
        use_dictionary=True,
        data_page_size=65536,
        row_group_size=1 << 20,
        write_statistics=True,
    )


def align_corpus(
    corpus: Path,
    out: Path,
    *,
    workers: int = 1,
    config: PhysicsConfig | None = None,
    limit: int | None = None,
) -> AlignReport:
    """Align every match of the corpus (sorted by id; the first `limit` if given) into `out`."""
    entries = read_index(corpus)
    if limit is not None:
        entries = entries[:limit]
    physics = config if config is not None else load_physics_config()
    report = AlignReport()
    rows: list[dict[str, Any]] = []
    for match_id, match_rows, error in _aligned(entries, physics, workers):
        if error or not match_rows:
            report.skipped[match_id] = error or "no alignable points"
            log.warning("match skipped", match_id=match_id, reason=report.skipped[match_id])
            continue
        report.matches += 1
        report.carried_labels += sum(bool(r["label_carried"]) for r in match_rows)
        rows.extend(match_rows)
    if not rows:
        raise ValueError(f"--corpus: no match of {corpus} could be aligned")
    report.rows = len(rows)
    write_aligned(rows_to_table(rows), out)
    return report


def read_aligned(path: Path) -> pa.Table:
    """Read an aligned file, refusing one with a different column layout."""
    if not path.is_file():
        raise FileNotFoundError(f"aligned file not found: {path}")
    table = pq.read_table(path)
    missing = [name for name in COLUMN_NAMES if name not in table.column_names]
    if missing:
        raise ValueError(f"aligned.{missing[0]}: missing from {path.name}; re-run dataset align")
    return table
