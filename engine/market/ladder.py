"""Price-keyed and position-keyed order-book sides for one runner.

`PriceLadder` keeps sizes in a 350-slot list indexed by Betfair tick (engine.market.ticks) plus
the sorted list of occupied tick indices, so an update is a dict look-up and a list store (and a
bisect when a level appears or disappears), and the best N levels are a slice of that list.
Prices that are not ticks (old files carry some) go to a small side dict: they are kept, counted
and merged into reads, never dropped and never an exception.

`PositionLadder` holds Betfair's position-keyed best-offers views (`batb`/`batl`/`bdatb`/`bdatl`,
rows of ``[position, price, size]``), which are not price ladders: a position is replaced wholesale.

Semantics follow the Exchange Stream API (and betfairlightweight, our oracle): a level update
replaces the size at its key, and a size of exactly 0 removes the level.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from engine.market.ticks import LADDER, N_TICKS

PriceSize = tuple[float, float]

# JSON numbers decode to the same double as LADDER's c/100.0 (both correctly rounded), and ints hash
# like equal floats, so the raw stream price is the key: one dict probe per level, no rounding.
INDEX_BY_PRICE: Final[dict[float, int]] = {price: index for index, price in enumerate(LADDER)}
_index_of = INDEX_BY_PRICE.get


class PriceLadder:
    """One price-keyed side of a book (available to back, available to lay, or traded volume).

    ``descending=True`` is the back side: the best level is the highest price. Otherwise the best
    level is the lowest price (lay side, and the ascending order of traded volume). Besides the
    350 sizes it keeps the sorted list of occupied tick indices, so the best level and the best N
    are slices (C speed) however sparse the ladder is.
    """

    __slots__ = ("_descending", "_occupied", "_off_ladder", "_sizes")

    def __init__(self, descending: bool) -> None:
        self._descending = descending
        self._sizes: list[float] = [0.0] * N_TICKS
        self._occupied: list[int] = []
        self._off_ladder: dict[float, float] | None = None

    @property
    def descending(self) -> bool:
        """True for the back side (best = highest price)."""
        return self._descending

    # -- updates -------------------------------------------------------------------------------

    def update(self, levels: Iterable[Sequence[Any]]) -> bool:
        """Apply ``[price, size]`` replacements (size 0 removes); True when the best level changed.

        Raises TypeError/IndexError on rows that are not ``[number, number]``; the cache catches
        them per message and counts the message as malformed.
        """
        return bool(self.apply(levels) & 1)

    def apply(self, levels: Iterable[Sequence[Any]]) -> int:
        """`update` for the cache's hot path: returns ``best_changed | off_ladder_levels << 1``."""
        sizes = self._sizes
        occupied = self._occupied
        index_of = _index_of
        if occupied:
            best_before = occupied[-1] if self._descending else occupied[0]
            best_size_before = sizes[best_before]
        else:
            best_before = -1
            best_size_before = 0.0
        off = 0
        for level in levels:
            price = level[0]
            size = level[1] + 0.0  # TypeError for a non-number: the level is malformed
            i = index_of(price)
            if i is None:
                self._set_off_ladder(price, size)
                off += 2
            elif size:
                if not sizes[i]:
                    insort(occupied, i)
                sizes[i] = size
            elif sizes[i]:
                sizes[i] = 0.0
                del occupied[bisect_left(occupied, i)]
        # An off-ladder level may sit at the top of the book: report it as a best change
        # (conservative; off-ladder prices are rare and only appear in old files).
        if occupied:
            best = occupied[-1] if self._descending else occupied[0]
            if off or best != best_before or sizes[best] != best_size_before:
                return off | 1
            return off
        return off | 1 if (off or best_before >= 0) else 0

    def set_size(self, price: float, size: float) -> None:
        """Replace the size at one price (0 removes the level)."""
        self.update(((price, size),))

    def clear(self) -> None:
        """Remove every level."""
        self._sizes = [0.0] * N_TICKS
        self._occupied = []
        self._off_ladder = None

    def _set_off_ladder(self, price: float, size: float) -> None:
        if not isinstance(price, int | float) or isinstance(price, bool):
            raise TypeError(f"price: {price!r} is not a number")
        if size:
            if self._off_ladder is None:
                self._off_ladder = {}
            self._off_ladder[float(price)] = size
        elif self._off_ladder is not None:
            self._off_ladder.pop(float(price), None)
            if not self._off_ladder:
                self._off_ladder = None

    # -- reads ---------------------------------------------------------------------------------

    @property
    def best_index(self) -> int | None:
        """Tick index of the best on-ladder level, None when the on-ladder part is empty."""
        occupied = self._occupied
        if not occupied:
            return None
        return occupied[-1] if self._descending else occupied[0]

    @property
    def has_off_ladder(self) -> bool:
        """True when some level sits at a price that is not a Betfair tick."""
        return self._off_ladder is not None

    def best(self) -> PriceSize | None:
        """The best level as (price, size), or None when the side is empty."""
        if self._off_ladder is None:
            occupied = self._occupied
            if not occupied:
                return None
            i = occupied[-1] if self._descending else occupied[0]
            return (LADDER[i], self._sizes[i])
        top = self.top(1)
        return top[0] if top else None

    def best_price(self) -> float | None:
        """Price of the best level, None when empty."""
        level = self.best()
        return None if level is None else level[0]

    def top(self, depth: int) -> list[PriceSize]:
        """The best `depth` levels, best first (a slice of the occupied indices, no ladder copy).

        Empty only when the side is empty (for depth >= 1).
        """
        if depth <= 0:
            return []
        sizes = self._sizes
        occupied = self._occupied
        indices = occupied[: -depth - 1 : -1] if self._descending else occupied[:depth]
        out = []
        for i in indices:  # a plain loop: cheaper than a comprehension's frame on 3.11
            out.append((LADDER[i], sizes[i]))  # noqa: PERF401
        if self._off_ladder is not None:
            out.extend(self._off_ladder.items())
            out.sort(reverse=self._descending)
            del out[depth:]
        return out

    def levels(self) -> Iterator[PriceSize]:
        """Every level, best first (on- and off-ladder merged)."""
        if self._off_ladder is None:
            sizes = self._sizes
            order = reversed(self._occupied) if self._descending else iter(self._occupied)
            for i in order:
                yield (LADDER[i], sizes[i])
            return
        yield from self.top(N_TICKS + len(self._off_ladder))

    def size_at(self, price: float) -> float:
        """Size at exactly `price` (0.0 when no level there)."""
        i = INDEX_BY_PRICE.get(price)
        if i is not None:
            return self._sizes[i]
        if self._off_ladder is None:
            return 0.0
        return self._off_ladder.get(float(price), 0.0)

    def size_at_index(self, index: int) -> float:
        """Size at a tick index (0 … 349)."""
        return self._sizes[index]

    def total_size(self) -> float:
        """Sum of sizes over every level (ascending price order, so sums are reproducible)."""
        total = 0.0
        for size in self.ascending_sizes():
            total += size
        return total

    def ascending_sizes(self) -> Iterator[float]:
        """Sizes in ascending price order (the order betfairlightweight sums traded volume in)."""
        sizes = self._sizes
        if self._off_ladder is None:
            for i in self._occupied:
                yield sizes[i]
            return
        merged = [(LADDER[i], sizes[i]) for i in self._occupied]
        merged.extend(self._off_ladder.items())
        merged.sort()
        for _price, size in merged:
            yield size

    def __len__(self) -> int:
        off = len(self._off_ladder) if self._off_ladder is not None else 0
        return len(self._occupied) + off

    def __bool__(self) -> bool:
        return bool(self._occupied) or self._off_ladder is not None

    def __repr__(self) -> str:
        side = "back" if self._descending else "lay/traded"
        return f"PriceLadder({side}, top={self.top(3)})"


class PositionLadder:
    """Position-keyed best-offers view: rows ``[position, price, size]``; size 0 removes a row."""

    __slots__ = ("_order", "_rows")

    def __init__(self) -> None:
        self._rows: dict[int, PriceSize] = {}
        self._order: list[int] = []

    def update(self, rows: Iterable[Sequence[Any]]) -> bool:
        """Replace rows by position; True when the first row changed.

        Raises TypeError/IndexError on malformed rows (the cache counts the change as malformed).
        """
        table = self._rows
        order = self._order
        best_before = table[order[0]] if order else None
        reorder = False
        for row in rows:
            position = row[0]
            size = row[2] + 0.0
            if size:
                if position not in table:
                    if not isinstance(position, int) or isinstance(position, bool):
                        raise TypeError(f"position: {position!r} is not an integer")
                    reorder = True
                table[position] = (row[1] + 0.0, size)
            elif table.pop(position, None) is not None:
                reorder = True
        if reorder:
            order = self._order = sorted(table)
        return (table[order[0]] if order else None) != best_before

    def clear(self) -> None:
        """Remove every row."""
        self._rows = {}
        self._order = []

    def top(self, depth: int) -> list[PriceSize]:
        """The first `depth` rows by position as (price, size)."""
        rows = self._rows
        return [rows[p] for p in self._order[: max(depth, 0)]]

    def best(self) -> PriceSize | None:
        """The row with the lowest position, None when empty."""
        return self._rows[self._order[0]] if self._order else None

    def __len__(self) -> int:
        return len(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    def __repr__(self) -> str:
        return f"PositionLadder({self.top(3)})"
