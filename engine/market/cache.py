"""The market cache: applies Exchange Stream market changes (decoded ``mc`` entries) to books.

Semantics match betfairlightweight's MarketStream (our test oracle) so books agree at every
update: ``img`` (or the first sight of a market) replaces the cached market; a marketDefinition
replaces status/in-play/bet delay/version and the runner definitions (runners are never dropped by a
later definition, so removed runners keep their REMOVED status); runner changes replace levels
(size 0 removes), ``trd`` replaces cumulative volume per price (an empty ``trd`` clears it); a
runner change for a selection no definition listed creates that runner and is counted.

Input is untrusted: a change that cannot be applied is counted, logged and flagged on its
`MarketUpdate`; no exception escapes `apply`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.logs import get_logger
from engine.market.book import MarketBook, RunnerBook, RunnerKey
from engine.market.ladder import INDEX_BY_PRICE, PriceLadder
from engine.market.update import LevelChange, MarketUpdate, TradeDelta

_log = get_logger("market.cache")

_new_tuple = tuple.__new__
_MALFORMED_ERRORS = (TypeError, KeyError, IndexError, ValueError, AttributeError)


@dataclass(slots=True)
class CacheCounters:
    """Running counts for metrics and for the end-of-file summary of a replay."""

    changes: int = 0
    images: int = 0
    definitions: int = 0
    conflated: int = 0
    unknown_runners: int = 0
    runners_without_definition: int = 0
    off_ladder_levels: int = 0
    off_ladder_ltp: int = 0
    out_of_order: int = 0
    malformed: int = 0


class MarketCache:
    """All cached markets of one stream, keyed by market id.

    ``record_level_changes=True`` makes every update carry the `LevelChange` list of its
    atb/atl replacements (for queue-position models); off by default because the hot path does not
    need it.
    """

    def __init__(self, *, record_level_changes: bool = False) -> None:
        self._books: dict[str, MarketBook] = {}
        self._record_levels = record_level_changes
        self._warned_unknown: set[tuple[str, RunnerKey]] = set()
        self.counters = CacheCounters()

    # -- reads ---------------------------------------------------------------------------------

    def get(self, market_id: str) -> MarketBook | None:
        """The cached book of a market, None when unknown."""
        return self._books.get(market_id)

    def __contains__(self, market_id: object) -> bool:
        return market_id in self._books

    def __iter__(self) -> Iterator[MarketBook]:
        return iter(self._books.values())

    def __len__(self) -> int:
        return len(self._books)

    def remove(self, market_id: str) -> MarketBook | None:
        """Forget a market (e.g. closed long ago); returns its last book."""
        self._warned_unknown = {key for key in self._warned_unknown if key[0] != market_id}
        return self._books.pop(market_id, None)

    def clear(self) -> None:
        """Forget every market (a new subscription image follows)."""
        self._books.clear()
        self._warned_unknown.clear()

    # -- updates -------------------------------------------------------------------------------

    def apply(self, change: Mapping[str, Any], publish_time: int) -> MarketUpdate | None:
        """Apply one market change (an ``mc`` entry); None when it names no market."""
        counters = self.counters
        try:
            market_id = change["id"]
            book = self._books.get(market_id)
            if book is None or change.get("img"):
                if type(market_id) is not str:
                    raise TypeError(f"id: {market_id!r} is not a string")
                book = MarketBook(market_id, publish_time)
                self._books[market_id] = book
                counters.images += 1
                image = True
            else:
                image = False
                if publish_time < book.publish_time:
                    counters.out_of_order += 1
        except _MALFORMED_ERRORS as exc:
            counters.malformed += 1
            _log.warning("market change without a usable market id", error=str(exc))
            return None

        counters.changes += 1
        book.publish_time = publish_time
        conflated = bool(change.get("con"))
        if conflated:
            counters.conflated += 1
        update = MarketUpdate(market_id, publish_time, book, image, conflated)
        if self._record_levels:
            update.level_changes = []

        try:
            definition = change.get("marketDefinition")
            if definition is not None:
                self._apply_definition(book, definition, update)
            if "tv" in change:
                book.tv = change["tv"] + 0.0
            runner_changes = change.get("rc")
            if runner_changes:
                self._apply_runner_changes(book, runner_changes, update)
        except _MALFORMED_ERRORS as exc:
            counters.malformed += 1
            update.malformed = True
            _log.warning("malformed market change", market_id=market_id, error=repr(exc))
        if update.off_ladder:
            counters.off_ladder_levels += update.off_ladder
        if update.off_ladder_ltp:
            counters.off_ladder_ltp += update.off_ladder_ltp
        return update

    def _apply_definition(
        self, book: MarketBook, definition: Mapping[str, Any], update: MarketUpdate
    ) -> None:
        if not isinstance(definition, dict):
            raise TypeError("marketDefinition: not an object")
        old_status, old_inplay = book.status, book.inplay
        book.apply_definition(definition)
        self.counters.definitions += 1
        update.definition_changed = True
        update.status_changed = book.status != old_status
        update.inplay_changed = book.inplay != old_inplay
        runners = book.runners
        for runner_definition in definition.get("runners", ()):
            key = (runner_definition["id"], runner_definition.get("hc", 0.0))
            runner = runners.get(key)
            if runner is None:
                runner = RunnerBook(key[0], key[1])
                runners[key] = runner
            runner.apply_definition(runner_definition)

    def _add_unknown_runner(
        self, book: MarketBook, key: RunnerKey, update: MarketUpdate
    ) -> RunnerBook:
        selection_id, handicap = key
        if not isinstance(selection_id, int) or isinstance(selection_id, bool):
            raise TypeError(f"rc.id: {selection_id!r} is not an integer")
        runner = RunnerBook(selection_id, handicap)
        book.runners[key] = runner
        if book.definition is None:
            # A delta-only subscription (no EX_MARKET_DEF) or a resubscribe delta: normal, quiet.
            self.counters.runners_without_definition += 1
            return runner
        self.counters.unknown_runners += 1
        update.unknown_runners.append(key)
        if (book.market_id, key) not in self._warned_unknown:
            self._warned_unknown.add((book.market_id, key))
            _log.warning(
                "runner change for a selection not in the market definition",
                market_id=book.market_id,
                selection_id=selection_id,
                handicap=handicap,
            )
        return runner

    def _apply_runner_changes(
        self, book: MarketBook, runner_changes: list[Any], update: MarketUpdate
    ) -> None:
        """Apply the ``rc`` entries of one market change (the hot loop of every replay).

        A runner without ``hc`` is found through `MarketBook.runner_index` by selection id (no
        key tuple to build and hash). Dispatches on the fields present (2-4 per change) rather
        than probing all 13 names, most frequent first (atl/atb/id/trd/ltp/tv); the best-offer
        and SP views go to `_apply_other_field`.
        """
        runners = book.runners
        index = book.runner_index
        record = update.level_changes is not None
        update_traded = self._update_traded
        for rc in runner_changes:
            selection = rc["id"]
            entry = None if "hc" in rc else index.get(selection)
            if entry is not None:
                key, runner = entry
            else:
                key = (selection, rc.get("hc", 0.0))
                known = runners.get(key)
                runner = self._add_unknown_runner(book, key, update) if known is None else known
                if "hc" not in rc:
                    index[selection] = (key, runner)
            flags = 0  # bit 0: a best level changed; higher bits: off-ladder levels << 1
            for name, value in rc.items():
                if name == "atl":
                    if record:
                        self._record_levels_of(runner.atl, value, key, "L", update)
                    flags |= runner.atl.apply(value)
                elif name == "atb":
                    if record:
                        self._record_levels_of(runner.atb, value, key, "B", update)
                    flags |= runner.atb.apply(value)
                elif name == "id":
                    continue
                elif name == "trd":
                    flags |= update_traded(runner, value, key, update)
                elif name == "ltp":
                    if value is None:
                        runner.ltp = None
                    else:
                        runner.ltp = value + 0.0
                        if value not in INDEX_BY_PRICE:  # kept as sent, counted
                            update.off_ladder_ltp += 1
                elif name == "tv":
                    runner.tv = value + 0.0
                else:
                    flags |= self._apply_other_field(runner, name, value)
            if flags:
                if flags & 1:
                    update.best_changed.append(key)
                update.off_ladder += flags >> 1

    @staticmethod
    def _apply_other_field(runner: RunnerBook, name: str, value: Any) -> int:
        """The rarer runner-change fields; returns best_changed | off-ladder levels << 1."""
        if name == "batb":
            return int(runner.batb.update(value))
        if name == "batl":
            return int(runner.batl.update(value))
        if name == "bdatb":
            return int(runner.bdatb.update(value))
        if name == "bdatl":
            return int(runner.bdatl.update(value))
        if name == "spn":
            runner.spn = value
        elif name == "spf":
            runner.spf = value
        elif name == "spb":
            return runner.spb.apply(value) & ~1
        elif name == "spl":
            return runner.spl.apply(value) & ~1
        return 0  # "hc" (part of the key) and fields this cache does not keep

    @staticmethod
    def _record_levels_of(
        ladder: PriceLadder, levels: list[Any], key: RunnerKey, side: str, update: MarketUpdate
    ) -> None:
        changes = update.level_changes
        assert changes is not None
        size_at = ladder.size_at
        changes.extend(
            LevelChange(key, side, level[0] + 0.0, size_at(level[0]), level[1] + 0.0)
            for level in levels
        )

    @staticmethod
    def _update_traded(
        runner: RunnerBook, levels: list[Any], key: RunnerKey, update: MarketUpdate
    ) -> int:
        """Apply cumulative traded volume; returns off-ladder levels << 1 (never a best flag)."""
        traded = runner.trd
        if not levels:
            traded.clear()
            return 0
        size_at = traded.size_at
        trades = update.trades
        count = len(trades)
        for level in levels:
            price = level[0]
            delta = level[1] - size_at(price)
            if delta:  # tuple.__new__: skips the namedtuple's Python-level __new__ (hot path)
                trades.append(_new_tuple(TradeDelta, (key, price + 0.0, delta)))
        if len(trades) > count:
            update.traded.append(key)
        return traded.apply(levels) & ~1
