"""Betfair's in-play scores service (tennis) mapped onto our score ticks.

Betfair publishes, per event, a stream of *incidents* (``updateContext`` + string ``values``):
`pointstart` (who serves next), `point` / `ace` / `doublefault` (a point ended: ``server``,
``wonBy``, and the score AFTER it — ``player{1,2}PointsWon`` in words 0/15/30/40/Av, games in the
current set ``player{1,2}GamesWon``, sets ``player{1,2}SetsWon``, ``winsGame`` on the game's last
point), `fault` (a first-serve fault: not a point), `time`, and status updates
(``eventTypeStatus``: onCourt, warmUp, inPlay, …; ``firstToServe`` once the toss is known). A
separate *score* payload gives the current score without the server.

The mapper turns incidents into our ticks with its own per-match seq. It keeps its own score and
checks each point incident's score-after against it; when they disagree (a missed incident, an
umpire's undo) it emits a snapshot built from Betfair's score at the next `pointstart` (the first
moment the next server is known), so the engine resynchronises instead of drifting. Betfair
sends deuce/advantage as words, so such snapshots carry the equivalent 3-3 / 4-3 counts.

Assumptions (the samples cover one set of one match): ``player{1,2}GamesWon`` are games in the
current set; the set-score history is not in the payload, so a resync after the first set uses
the mapper's own completed sets when their count agrees with Betfair's and otherwise waits (the
match goes stale rather than being priced on a guess); status words other than those above are
mapped by `_SUSPEND_STATUSES` / `_FINISHED_STATUSES` and logged when unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from engine.logs import get_logger
from engine.physics.rules import MatchRules
from engine.score.scoring import IllegalScoreError, Score
from engine.score.ticks import (
    MatchEnd,
    MatchStart,
    Player,
    Point,
    Resume,
    ScoreTick,
    Snapshot,
    SnapshotScore,
    SnapshotStatus,
    Suspend,
    SuspendReason,
)

_log = get_logger("scores.betfair")

POINT_INCIDENTS: Final = frozenset({"point", "ace", "doublefault"})
_POINT_WORDS: Final[dict[str, int]] = {"0": 0, "15": 1, "30": 2, "40": 3, "AV": 4, "A": 4, "AD": 4}
_PRE_MATCH_STATUSES: Final = frozenset({"", "onCourt", "warmUp", "notStarted", "preMatch"})
_SUSPEND_STATUSES: Final = frozenset({"suspended", "rainDelay", "interrupted", "delayed"})
_FINISHED_STATUSES: Final = frozenset({"finished", "completed", "retired", "walkover", "ended"})


class BetfairScoreError(ValueError):
    """A Betfair scores payload we cannot read; the message names the field."""


def parse_time(text: str) -> float:
    """Betfair's ``2017-05-16T11:10:35.000Z`` as Unix epoch seconds."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise BetfairScoreError(f"lastUpdated: not an ISO time: {text!r}") from exc


def _player(value: Any, field: str) -> Player:
    if str(value) == "1":
        return 1
    if str(value) == "2":
        return 2
    raise BetfairScoreError(f"{field}: expected '1' or '2', got {value!r}")


def _count(values: Mapping[str, Any], field: str) -> int:
    raw = values.get(field)
    if raw is None or not str(raw).isdigit():
        raise BetfairScoreError(f"{field}: expected a whole number, got {raw!r}")
    return int(str(raw))


def _points(values: Mapping[str, Any], tiebreak: bool) -> tuple[int, int]:
    """Points in the current game: words in a game, plain counts in a tiebreak."""
    words = (str(values.get("player1PointsWon", "")), str(values.get("player2PointsWon", "")))
    if tiebreak:
        if not all(w.isdigit() for w in words):
            raise BetfairScoreError(f"PointsWon: tiebreak counts expected, got {words}")
        return int(words[0]), int(words[1])
    if not all(w.upper() in _POINT_WORDS for w in words):
        raise BetfairScoreError(f"PointsWon: expected 0/15/30/40/Av, got {words}")
    return _POINT_WORDS[words[0].upper()], _POINT_WORDS[words[1].upper()]


def _normalised(points: tuple[int, int], tiebreak: bool) -> tuple[int, int]:
    """Deuce games as Betfair shows them: 5-5 → 3-3, 6-5 → 4-3 (tiebreaks unchanged)."""
    if tiebreak or min(points) < 3:
        return points
    lead = points[0] - points[1]
    return (3 + max(lead, 0), 3 + max(-lead, 0))


@dataclass(frozen=True, slots=True)
class BetfairScore:
    """Betfair's view of the score (after a point, or from a score payload)."""

    sets: tuple[int, int]
    games: tuple[int, int]
    points: tuple[int, int]  # normalised: 3-3 deuce, 4-3 advantage

    @classmethod
    def from_values(cls, values: Mapping[str, Any], rules: MatchRules) -> BetfairScore:
        sets = (_count(values, "player1SetsWon"), _count(values, "player2SetsWon"))
        games = (_count(values, "player1GamesWon"), _count(values, "player2GamesWon"))
        at = rules.tiebreak_at(rules.is_deciding_set(*sets))
        tiebreak = at is not None and games[0] == games[1] == at
        return cls(sets, games, _points(values, tiebreak))


def _incidents_in_order(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    incidents = payload.get("incidents")
    if not isinstance(incidents, dict):
        raise BetfairScoreError("incidents: expected an object keyed by sequence")
    return [incidents[key] for key in sorted(incidents, key=int)]


class BetfairScoresMapper:
    """Incidents of one Betfair event → our ticks (match id = Betfair eventId by default)."""

    def __init__(self, match_id: str, rules: MatchRules) -> None:
        self.match_id = match_id
        self.rules = rules
        self.seq = 0
        self.score: Score | None = None
        self.players: tuple[str, str] | None = None
        self.first_server: Player | None = None
        self.status: SnapshotStatus = "not_started"
        self.last_update_seq: int | None = None
        self.pending_resync: BetfairScore | None = None
        self.counts: Counter[str] = Counter()

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def map_incidents(self, incidents: Iterable[Mapping[str, Any]]) -> list[ScoreTick]:
        out: list[ScoreTick] = []
        for incident in incidents:
            out.extend(self.on_incident(incident))
        return out

    def on_incident(self, incident: Mapping[str, Any]) -> list[ScoreTick]:
        """Ticks for one incident (often none). Malformed incidents are logged and counted."""
        try:
            return self._map(incident)
        except BetfairScoreError as exc:
            self.counts["malformed"] += 1
            _log.warning("betfair_incident_malformed", match_id=self.match_id, reason=str(exc))
            return []

    def _map(self, incident: Mapping[str, Any]) -> list[ScoreTick]:
        context = incident.get("updateContext") or {}
        values = incident.get("values") or {}
        if not isinstance(context, dict) or not isinstance(values, dict):
            raise BetfairScoreError("incident: updateContext and values must be objects")
        self._check_sequence(context.get("updateSequence"))
        ts = parse_time(str(context.get("lastUpdated", "")))
        kind = str(context.get("updateType", ""))
        if "player1" in values and "player2" in values:
            self.players = (str(values["player1"]), str(values["player2"]))
        if values.get("firstToServe") not in (None, "", "NA"):
            self.first_server = _player(values["firstToServe"], "firstToServe")
        out: list[ScoreTick] = []
        out.extend(self._status_change(str(values.get("eventTypeStatus", "")), ts))
        if kind in POINT_INCIDENTS and self.score is not None and self.status != "finished":
            out.extend(self._point(values, ts))
        elif kind == "pointstart" and self.pending_resync is not None:
            out.extend(self._resync(values, ts))
        self.counts[kind or "status"] += 1
        return out

    def _check_sequence(self, raw: Any) -> None:
        if not isinstance(raw, int):
            return
        if self.last_update_seq is not None and raw != self.last_update_seq + 1:
            self.counts["sequence_gap"] += 1
            _log.warning(
                "betfair_incident_gap", match_id=self.match_id, after=self.last_update_seq, got=raw
            )
        self.last_update_seq = raw

    def _status_change(self, status: str, ts: float) -> list[ScoreTick]:
        if status in _PRE_MATCH_STATUSES:
            return []
        if status == "inPlay":
            if self.status == "not_started" and self.first_server and self.players:
                self.score = Score(self.rules, self.first_server)
                self.status = "in_play"
                start = MatchStart(
                    self.match_id, self._next(), ts, self.rules, self.players, self.first_server
                )
                return [start]
            if self.status == "suspended":
                self.status = "in_play"
                return [Resume(self.match_id, self._next(), ts)]
            return []
        if status in _SUSPEND_STATUSES:
            if self.status == "in_play":
                self.status = "suspended"
                reason: SuspendReason = "rain" if status == "rainDelay" else "other"
                return [Suspend(self.match_id, self._next(), ts, reason)]
            return []
        if status in _FINISHED_STATUSES:
            return []  # the winning point (or a retirement on our side) ends the match
        self.counts["unknown_status"] += 1
        _log.warning("betfair_unknown_status", match_id=self.match_id, status=status)
        return []

    def _point(self, values: Mapping[str, Any], ts: float) -> list[ScoreTick]:
        score = self.score
        assert score is not None
        after = BetfairScore.from_values(values, self.rules)
        if self.pending_resync is not None:
            self.pending_resync = after  # still waiting for a pointstart with the server
            return []
        server = _player(values.get("server"), "server")
        winner = _player(values.get("wonBy"), "wonBy")
        if str(values.get("undo", "0")) not in ("", "0") or server != score.server:
            self._desync(after, "undo" if str(values.get("undo", "0")) != "0" else "server")
            return []
        score.play_point(winner)
        mine = BetfairScore(
            (score.sets[0], score.sets[1]),
            (score.games[0], score.games[1]),
            _normalised((score.points[0], score.points[1]), score.tiebreak),
        )
        point = Point(self.match_id, self._next(), ts, server, winner)
        if mine != after and not (score.winner is not None and mine.sets == after.sets):
            self._desync(after, "score")
            return [point]
        if score.winner is not None:
            self.status = "finished"
            winner_player: Player = 1 if score.winner == 1 else 2
            return [point, MatchEnd(self.match_id, self._next(), ts, winner_player)]
        return [point]

    def _desync(self, after: BetfairScore, why: str) -> None:
        self.counts["desync_" + why] += 1
        self.pending_resync = after
        _log.warning("betfair_score_desync", match_id=self.match_id, why=why, betfair=str(after))

    def _resync(self, values: Mapping[str, Any], ts: float) -> list[ScoreTick]:
        target = self.pending_resync
        assert target is not None and self.score is not None and self.players is not None
        server = _player(values.get("server"), "server")
        history = self.score.set_scores[: sum(target.sets)]
        if len(history) != sum(target.sets):
            self.counts["resync_waiting"] += 1
            return []
        try:
            score = Score.from_state(
                self.rules,
                sets=target.sets,
                games=target.games,
                points=target.points,
                server=server,
                set_scores=tuple(history),
            )
        except IllegalScoreError as exc:
            self.counts["resync_illegal"] += 1
            _log.warning("betfair_resync_illegal", match_id=self.match_id, reason=str(exc))
            return []
        self.score = score
        self.pending_resync = None
        self.counts["resync"] += 1
        return [self._snapshot(score, ts)]

    def _snapshot(self, score: Score, ts: float) -> Snapshot:
        assert self.players is not None
        return Snapshot(
            match_id=self.match_id,
            seq=self._next(),
            ts=ts,
            rules=self.rules,
            players=self.players,
            score=SnapshotScore(
                sets=(score.sets[0], score.sets[1]),
                games=(score.games[0], score.games[1]),
                points=(score.points[0], score.points[1]),
                server=1 if score.server == 1 else 2,
                set_scores=tuple(score.set_scores),
            ),
            status=self.status,
            mto=None,
        )


def map_incidents_payload(payload: Any, rules: MatchRules) -> dict[str, list[ScoreTick]]:
    """The incidents endpoint's response (a list of events) → ticks per event id."""
    if not isinstance(payload, list):
        raise BetfairScoreError("incidents payload: expected a list of events")
    out: dict[str, list[ScoreTick]] = {}
    for event in payload:
        event_id = str(event.get("eventId", ""))
        if not event_id:
            raise BetfairScoreError("eventId: missing")
        mapper = BetfairScoresMapper(event_id, rules)
        out[event_id] = mapper.map_incidents(_incidents_in_order(event))
    return out


def score_to_snapshot(
    payload: Mapping[str, Any],
    rules: MatchRules,
    seq: int,
    *,
    first_server: Player | None = None,
    server: Player | None = None,
    set_scores: tuple[tuple[int, int], ...] = (),
) -> Snapshot:
    """One event of the score endpoint → a snapshot (resynchronisation from Betfair's score).

    The payload has neither the server nor the completed sets' scores: pass `server` (or
    `first_server` when no set has been completed: the rotation then fixes the server from the
    games played, outside a tiebreak) and, after the first set, `set_scores`.
    """
    values = payload.get("values")
    context = payload.get("updateContext")
    if not isinstance(values, dict) or not isinstance(context, dict):
        raise BetfairScoreError("score: values and updateContext must be objects")
    score = BetfairScore.from_values(values, rules)
    if server is None:
        at = rules.tiebreak_at(rules.is_deciding_set(*score.sets))
        in_tiebreak = at is not None and score.games[0] == score.games[1] == at
        if first_server is None or any(score.sets) or in_tiebreak:
            raise BetfairScoreError("server: not derivable from the score payload; pass it")
        played = score.games[0] + score.games[1]
        server = first_server if played % 2 == 0 else (2 if first_server == 1 else 1)
    status_word = str(values.get("eventTypeStatus", ""))
    status: SnapshotStatus = "suspended" if status_word in _SUSPEND_STATUSES else "in_play"
    try:
        Score.from_state(
            rules,
            sets=score.sets,
            games=score.games,
            points=score.points,
            server=server,
            set_scores=set_scores,
        )
    except IllegalScoreError as exc:
        raise BetfairScoreError(f"score: {exc}") from exc
    return Snapshot(
        match_id=str(payload.get("eventId", "")),
        seq=seq,
        ts=parse_time(str(context.get("lastUpdated", ""))),
        rules=rules,
        players=(str(values.get("player1", "player1")), str(values.get("player2", "player2"))),
        score=SnapshotScore(score.sets, score.games, score.points, server, set_scores),
        status=status,
        mto=None,
    )


def in_progress_events(payload: Any) -> list[str]:
    """The available-events endpoint → ids of tennis events in progress."""
    if not isinstance(payload, list):
        raise BetfairScoreError("available events: expected a list")
    return [
        str(event["eventId"])
        for event in payload
        if isinstance(event, dict)
        and str(event.get("eventTypeId")) == "2"
        and event.get("eventStatus") == "IN_PROGRESS"
        and "eventId" in event
    ]
