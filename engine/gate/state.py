"""The gate's memory of one match: how well the emulator has tracked the market, and how deep
the book usually is. Everything else the gate needs arrives with each event (`GateInputs`)."""

from __future__ import annotations

from engine.gate.config import GateConfig
from engine.gate.rolling import RollingMeanAbs, RunningMedian


class GateState:
    """Per-match rolling state; each update is O(1) (see `engine.gate.rolling`)."""

    __slots__ = ("depth", "emu_error")

    def __init__(self, config: GateConfig) -> None:
        self.emu_error = RollingMeanAbs(config.emu_error_window)
        self.depth = RunningMedian()

    def observe_point(self, emu_price: float | None, market_prob: float | None) -> None:
        """After a point: how far the emulator's price for it was from where the market went."""
        if emu_price is not None and market_prob is not None:
            self.emu_error.add(emu_price - market_prob)

    def observe_depth(self, depth: float) -> None:
        """On a book update: the book's depth in £ (the same measure the gate is given)."""
        self.depth.add(depth)

    def reset_emulator(self) -> None:
        """Forget the emulator's track record (a model reset on resync starts it over)."""
        self.emu_error.clear()
