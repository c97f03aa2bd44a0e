"""engine.toml ``[core]``: which emulators the engine steps and the match context defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from engine.physics.calibration import normalise_surface


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """models_dir: where the ONNX emulators and their metadata JSON live (relative paths are read
    from the working directory). emu_full / emu_lite: model file names in it ("" = run without that
    emulator; with no emu_full the gate stays shut on ``emu_unproven``, the safe default when no
    model is shipped). default_tour / default_surface: the match context when the market and feed
    do not say (tour is ATP whenever a match is best-of-5). book_stake: the £ stake whose
    volume-weighted price is the book feature ``*_prob_50``. timer_s: how often (event seconds)
    every match's gate is re-evaluated, so that a silent feed closes it. kv_capacity: initial rows
    of a Transformer's per-match cache (it doubles when full)."""

    models_dir: str = "models_onnx"
    emu_full: str = ""
    emu_lite: str = ""
    default_tour: Literal["atp", "wta"] = "atp"
    default_surface: Literal["hard", "clay", "grass"] = "hard"
    book_stake: float = 50.0
    timer_s: float = 1.0
    kv_capacity: int = 512

    def validate(self) -> None:
        normalise_surface(self.default_surface)
        if not (math.isfinite(self.book_stake) and self.book_stake > 0.0):
            raise ValueError(f"book_stake: must be a positive amount, got {self.book_stake!r}")
        if not (math.isfinite(self.timer_s) and self.timer_s > 0.0):
            raise ValueError(f"timer_s: must be positive, got {self.timer_s!r}")
        if self.kv_capacity < 2:
            raise ValueError(f"kv_capacity: must be at least 2, got {self.kv_capacity!r}")
        for name in ("emu_full", "emu_lite"):
            value = getattr(self, name)
            if value and not value.endswith(".onnx"):
                raise ValueError(f"{name}: expected an .onnx file name, got {value!r}")
