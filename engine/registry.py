"""Match registry: which Betfair market is which score-feed match, and which runner is which player.

Betfair and score providers spell players differently ("Novak Djokovic", "N. Djokovic",
"Djokovic N.", "Juan Martin del Potro" / "Del Potro J.M.", "Pablo Carreño Busta" /
"Carreno-Busta P."). Names are normalised (accents, case, hyphens and dots removed) into words
and abbreviations, and two spellings name the same player when they share a whole word (the
surname) and their remaining parts do not contradict each other (`same_player` gives the rules).
A market links to a feed match when both runners match both players and the start times are
within `start_tolerance_s`; ambiguity (two candidate matches equally close) links nothing. An
explicit `[registry.overrides]` entry wins over the names. A market without a linked score feed is
still followed (its prices are useful) but is never tradable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.logs import get_logger

_log = get_logger("registry")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.,'’`]+")
_REVERSED_SUFFIX = ":reversed"


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """engine.toml ``[registry]``."""

    start_tolerance_s: float = 43200.0
    overrides: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if self.start_tolerance_s < 0.0:
            raise ValueError("start_tolerance_s: must not be negative")
        for market_id, target in self.overrides.items():
            if not target.removesuffix(_REVERSED_SUFFIX):
                raise ValueError(f"overrides.{market_id}: empty score-feed match id")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A name reduced to lower-case ASCII words and abbreviations ("J.M." -> j, m; "Ka." -> ka)."""

    words: tuple[str, ...]
    initials: tuple[str, ...]


_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def normalise_name(name: str) -> PersonName:
    """Split a display name into words and abbreviations ("Del Potro J.M." -> del, potro + j, m).

    A single letter, or a piece of up to three letters in a token with a dot ("Ka.", "Y.H."), is
    an abbreviation of a given name; generational suffixes (Jr., III) are dropped. Order never
    matters, so "Djokovic, Novak" reads the same as "Novak Djokovic".
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words: list[str] = []
    initials: list[str] = []
    for raw in re.split(r"[\s,]+", ascii_name.strip()):
        dotted = "." in raw
        for piece in _SEPARATORS.split(raw):
            lowered = piece.lower()
            if not lowered or lowered in _SUFFIXES:
                continue
            if len(piece) == 1 or (dotted and len(piece) <= 3):
                initials.append(lowered)
            else:
                words.append(lowered)
    return PersonName(tuple(words), tuple(initials))


def _pair_off(mine: list[str], theirs: list[str], pairs: Callable[[str, str], bool]) -> None:
    """Remove from both lists every item of `mine` that pairs with one of `theirs`."""
    for item in list(mine):
        for i, other in enumerate(theirs):
            if pairs(item, other):
                del theirs[i]
                mine.remove(item)
                break


def _prefix_words(word: str, other: str) -> bool:
    return min(len(word), len(other)) >= 3 and (other.startswith(word) or word.startswith(other))


def _abbreviates(initial: str, word: str) -> bool:
    return word.startswith(initial)


def _same_abbreviation(initial: str, other: str) -> bool:
    return other.startswith(initial) or initial.startswith(other)


def same_player(a: str | PersonName, b: str | PersonName) -> bool:
    """True when the two spellings can name the same player.

    They must share one whole word (the surname, two letters or more). Then the remaining parts
    pair off: equal words, a word and its prefix of three letters or more ("Stan" / "Stanislas"),
    an abbreviation and a word it starts ("Ka." / "Karolina"), equal abbreviations. What is left
    over may sit on one side only (an extra surname part: "Estrella Burgos V." / "Victor
    Estrella"); parts left on both sides contradict each other ("Murray A." / "Jamie Murray").
    """
    na = a if isinstance(a, PersonName) else normalise_name(a)
    nb = b if isinstance(b, PersonName) else normalise_name(b)
    wa, wb = list(na.words), list(nb.words)
    shared = False
    for word in na.words:
        if word in wb:
            wa.remove(word)
            wb.remove(word)
            shared = shared or len(word) >= 2
    if not shared:
        return False
    _pair_off(wa, wb, _prefix_words)
    ia, ib = list(na.initials), list(nb.initials)
    _pair_off(ia, wb, _abbreviates)
    _pair_off(ib, wa, _abbreviates)
    _pair_off(ia, ib, _same_abbreviation)
    return not ((wa or ia) and (wb or ib))


@dataclass(frozen=True, slots=True)
class RunnerInfo:
    selection_id: int
    name: str
    sort_priority: int


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """A Betfair MATCH_ODDS market as the registry needs it (from the catalogue or a
    marketDefinition): start_ts is the scheduled start, Unix seconds."""

    market_id: str
    event_id: str
    event_name: str
    start_ts: float | None
    runners: tuple[RunnerInfo, ...]


@dataclass(frozen=True, slots=True)
class ScoreMatchInfo:
    """A score-feed match: players in the feed's order (player 1 first)."""

    match_id: str
    players: tuple[str, str]
    start_ts: float | None


@dataclass(frozen=True, slots=True)
class Link:
    """The registry's verdict for one market.

    selections: (selection id of feed player 1, selection id of feed player 2) when linked.
    how: ``names`` / ``override`` when linked; ``no_score_match``, ``ambiguous``,
    ``not_two_runners`` or ``override_unknown_match`` when not.
    """

    market_id: str
    match_id: str | None
    selections: tuple[int, int] | None
    how: str

    @property
    def tradable(self) -> bool:
        return self.match_id is not None and self.selections is not None


def parse_iso_ts(text: Any) -> float | None:
    """Epoch seconds of an ISO-8601 time (Betfair's "…Z" included); None when absent or bad."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def market_info_from_definition(market_id: str, definition: dict[str, Any]) -> MarketInfo:
    """Read a stream marketDefinition (historical files carry runner names; the live stream
    does not, names then come from the catalogue)."""
    runners = tuple(
        RunnerInfo(int(r["id"]), str(r.get("name", "")), int(r.get("sortPriority", i + 1)))
        for i, r in enumerate(definition.get("runners", []))
        if r.get("status", "ACTIVE") != "REMOVED"
    )
    return MarketInfo(
        market_id=market_id,
        event_id=str(definition.get("eventId", "")),
        event_name=str(definition.get("eventName", "")),
        start_ts=parse_iso_ts(definition.get("marketTime")),
        runners=runners,
    )


def _player_order(market: MarketInfo, match: ScoreMatchInfo) -> tuple[int, int] | None:
    """(selection of player 1, selection of player 2) if the runners name the two players."""
    if len(market.runners) != 2:
        return None
    r1, r2 = market.runners
    p1, p2 = (normalise_name(p) for p in match.players)
    n1, n2 = normalise_name(r1.name), normalise_name(r2.name)
    straight = same_player(n1, p1) and same_player(n2, p2)
    crossed = same_player(n1, p2) and same_player(n2, p1)
    if straight == crossed:  # neither, or both (two players with one name): no verdict
        return None
    return (r1.selection_id, r2.selection_id) if straight else (r2.selection_id, r1.selection_id)


class MatchRegistry:
    """Links markets to score-feed matches as either side becomes known."""

    def __init__(self, config: RegistryConfig | None = None) -> None:
        self.config = config if config is not None else RegistryConfig()
        self._markets: dict[str, MarketInfo] = {}
        self._matches: dict[str, ScoreMatchInfo] = {}
        self._links: dict[str, Link] = {}
        self._market_by_match: dict[str, str] = {}

    def add_market(self, market: MarketInfo) -> Link:
        """Follow a market and try to link it now."""
        self._markets[market.market_id] = market
        return self._relink(market)

    def add_score_match(self, match: ScoreMatchInfo) -> list[Link]:
        """A feed match became known: re-try every unlinked market; returns the new links."""
        self._matches[match.match_id] = match
        made = []
        for market in self._markets.values():
            if not self._links[market.market_id].tradable:
                link = self._relink(market)
                if link.tradable:
                    made.append(link)
        return made

    def link(self, market_id: str) -> Link | None:
        return self._links.get(market_id)

    def market_for_match(self, match_id: str) -> str | None:
        return self._market_by_match.get(match_id)

    def player_names(self, market_id: str) -> tuple[str, str] | None:
        """(player 1, player 2) of a linked market, in the feed's order: the runners' names (full
        Betfair spellings), or the feed's when the market carries none."""
        link = self._links.get(market_id)
        if link is None or link.match_id is None or link.selections is None:
            return None
        market = self._markets.get(market_id)
        if market is not None:
            by_id = {r.selection_id: r.name for r in market.runners}
            first, second = (by_id.get(s, "") for s in link.selections)
            if first and second:
                return first, second
        match = self._matches.get(link.match_id)
        return match.players if match is not None else None

    def links(self) -> list[Link]:
        return list(self._links.values())

    def _relink(self, market: MarketInfo) -> Link:
        link = self._override(market)
        if link is None:
            link = self._by_names(market)
        previous = self._links.get(market.market_id)
        if previous is not None and previous.match_id is not None:
            self._market_by_match.pop(previous.match_id, None)
        self._links[market.market_id] = link
        if link.match_id is not None:
            self._market_by_match[link.match_id] = market.market_id
        if link != previous:
            _log.info(
                "market_link",
                market_id=market.market_id,
                event_name=market.event_name,
                match_id=link.match_id,
                how=link.how,
                tradable=link.tradable,
            )
        return link

    def _override(self, market: MarketInfo) -> Link | None:
        target = self.config.overrides.get(market.market_id)
        if target is None:
            return None
        reversed_ = target.endswith(_REVERSED_SUFFIX)
        match_id = target.removesuffix(_REVERSED_SUFFIX)
        match = self._matches.get(match_id)
        if match is None or len(market.runners) != 2:
            return Link(market.market_id, None, None, "override_unknown_match")
        order = None if reversed_ else _player_order(market, match)
        if order is None:
            by_priority = sorted(market.runners, key=lambda r: r.sort_priority)
            first, second = by_priority[0].selection_id, by_priority[1].selection_id
            order = (second, first) if reversed_ else (first, second)
        return Link(market.market_id, match_id, order, "override")

    def _by_names(self, market: MarketInfo) -> Link:
        if len(market.runners) != 2:
            return Link(market.market_id, None, None, "not_two_runners")
        tolerance = self.config.start_tolerance_s
        candidates: list[tuple[float, ScoreMatchInfo, tuple[int, int]]] = []
        for match in self._matches.values():
            gap = 0.0
            if market.start_ts is not None and match.start_ts is not None:
                gap = abs(market.start_ts - match.start_ts)
                if gap > tolerance:
                    continue
            order = _player_order(market, match)
            if order is not None:
                candidates.append((gap, match, order))
        if not candidates:
            return Link(market.market_id, None, None, "no_score_match")
        candidates.sort(key=lambda c: c[0])
        if len(candidates) > 1 and candidates[1][0] == candidates[0][0]:
            return Link(market.market_id, None, None, "ambiguous")
        _gap, match, order = candidates[0]
        return Link(market.market_id, match.match_id, order, "names")
