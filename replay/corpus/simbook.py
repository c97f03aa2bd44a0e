"""The simulator's own (intended) order book and the stream deltas that reproduce it.

Every change goes through `set_level`, which updates the book and records the change for the
next message; `flush` turns the recorded changes into `rc` entries (full-depth `atb`/`atl` level
replacements, size 0 removes; cumulative `trd` per price; `ltp`; runner `tv`), so a market cache
replaying the file ends with exactly this book after every message.
"""

from __future__ import annotations

from typing import Any

from engine.market.ticks import LADDER

Side = str  # "atb" or "atl"


class RunnerBook:
    """One runner: available-to-back and -lay sizes by tick index, traded volume by tick index."""

    __slots__ = ("back", "lay", "ltp", "traded", "tv")

    def __init__(self) -> None:
        self.back: dict[int, float] = {}
        self.lay: dict[int, float] = {}
        self.traded: dict[int, float] = {}
        self.ltp: float | None = None
        self.tv = 0.0

    def side(self, side: Side) -> dict[int, float]:
        return self.back if side == "atb" else self.lay

    def best_back(self) -> int | None:
        return max(self.back) if self.back else None

    def best_lay(self) -> int | None:
        return min(self.lay) if self.lay else None


class _Pending:
    __slots__ = ("atb", "atl", "traded")

    def __init__(self) -> None:
        self.atb: dict[int, float] = {}
        self.atl: dict[int, float] = {}
        self.traded: list[int] = []


class SimBook:
    """Both runners' books plus the changes not yet written to a message."""

    def __init__(self, selection_ids: tuple[int, int]) -> None:
        self.ids = selection_ids
        self.runners = {sel: RunnerBook() for sel in selection_ids}
        self._pending: dict[int, _Pending] = {}

    def _slot(self, sel: int) -> _Pending:
        slot = self._pending.get(sel)
        if slot is None:
            slot = self._pending[sel] = _Pending()
        return slot

    def set_level(self, sel: int, side: Side, index: int, size: float) -> None:
        """Replace the size at one tick (rounded to pennies; below 0.01 removes the level)."""
        size = round(size, 2)
        levels = self.runners[sel].side(side)
        if size < 0.01:
            if index not in levels:
                return
            del levels[index]
            size = 0.0
        else:
            if levels.get(index) == size:
                return
            levels[index] = size
        pending = self._slot(sel)
        (pending.atb if side == "atb" else pending.atl)[index] = size

    def trade(self, sel: int, index: int, size: float) -> None:
        """Record matched volume at a price: cumulative traded, last traded price, runner total."""
        book = self.runners[sel]
        size = round(size, 2)
        book.traded[index] = round(book.traded.get(index, 0.0) + size, 2)
        book.ltp = LADDER[index]
        book.tv = round(book.tv + size, 2)
        traded = self._slot(sel).traded
        if index not in traded:
            traded.append(index)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def flush(self, image: bool = False) -> list[dict[str, Any]]:
        """The `rc` entries for the changes since the last flush (every level when `image`)."""
        out: list[dict[str, Any]] = []
        for sel in self.ids:
            book = self.runners[sel]
            if image:
                entry: dict[str, Any] = {"id": sel}
                entry["atb"] = [[LADDER[i], s] for i, s in sorted(book.back.items(), reverse=True)]
                entry["atl"] = [[LADDER[i], s] for i, s in sorted(book.lay.items())]
                out.append(entry)
                continue
            pending = self._pending.get(sel)
            if pending is None:
                continue
            entry = {"id": sel}
            if pending.atb:
                entry["atb"] = [[LADDER[i], s] for i, s in pending.atb.items()]
            if pending.atl:
                entry["atl"] = [[LADDER[i], s] for i, s in pending.atl.items()]
            if pending.traded:
                entry["trd"] = [[LADDER[i], book.traded[i]] for i in pending.traded]
                entry["ltp"] = book.ltp
                entry["tv"] = book.tv
            out.append(entry)
        self._pending.clear()
        return out

    def best_view(self) -> tuple[tuple[float, float, float, float], ...]:
        """Per runner (selection order): best back price, its size, best lay price, its size
        (0.0 for an empty side) — what a replaying market cache must show."""
        view = []
        for sel in self.ids:
            book = self.runners[sel]
            back = book.best_back()
            lay = book.best_lay()
            view.append(
                (
                    LADDER[back] if back is not None else 0.0,
                    book.back[back] if back is not None else 0.0,
                    LADDER[lay] if lay is not None else 0.0,
                    book.lay[lay] if lay is not None else 0.0,
                )
            )
        return tuple(view)
