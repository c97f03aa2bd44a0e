"""Emu-full and Emu-lite, stepped together on every point of every followed match.

One ONNX Runtime session per model (`engine.models.runner`), per-match GRU state / KV cache owned
here, keyed by the followed market. Emu-lite sees the same token with the book columns zeroed
(`apply_variant`), so one feature build feeds both. A resync (snapshot) or a new match resets the
state from the static vector: the emulators never carry a hidden state across a gap they did not
see.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.features.builders import FloatArray, apply_variant
from engine.features.schema import VARIANT_FULL, VARIANT_LITE
from engine.models.runner import (
    DEFAULT_CAPACITY,
    EmulatorRunner,
    GRUMatchState,
    KVMatchState,
    StepOutput,
    load_emulator,
)


class EmulatorSlot:
    """One match's states in both emulators (None where that emulator is not loaded).
    `full_steps` counts every move of Emu-full's state (reset, step, commit): a step foreseen
    from one count is stale at any other."""

    __slots__ = ("full", "full_steps", "lite", "lite_token", "ready")

    def __init__(
        self,
        full: GRUMatchState | KVMatchState | None,
        lite: GRUMatchState | KVMatchState | None,
        token_dim: int,
    ) -> None:
        self.full = full
        self.lite = lite
        self.lite_token = np.zeros(token_dim, dtype=np.float32)
        self.ready = False
        self.full_steps = 0


class EmulatorSet:
    """The loaded emulators. `full`/`lite` are None when not configured."""

    def __init__(
        self,
        full: EmulatorRunner | None,
        lite: EmulatorRunner | None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        if full is not None and full.metadata is not None and full.metadata.variant != VARIANT_FULL:
            raise ValueError(f"core.emu_full: {full.path.name} is a {full.metadata.variant} model")
        if lite is not None and lite.metadata is not None and lite.metadata.variant != VARIANT_LITE:
            raise ValueError(f"core.emu_lite: {lite.path.name} is a {lite.metadata.variant} model")
        self.full = full
        self.lite = lite
        self.capacity = capacity
        dims = {r.token_dim for r in (full, lite) if r is not None}
        self.token_dim = dims.pop() if dims else 0

    @classmethod
    def load(
        cls, models_dir: Path, full_name: str, lite_name: str, capacity: int = DEFAULT_CAPACITY
    ) -> EmulatorSet:
        """Load the configured files; FileNotFoundError / ValueError name the config key."""
        runners: list[EmulatorRunner | None] = []
        for key, name in (("core.emu_full", full_name), ("core.emu_lite", lite_name)):
            if not name:
                runners.append(None)
                continue
            path = models_dir / name
            if not path.is_file():
                raise FileNotFoundError(f"{key}: model file {path} not found")
            try:
                runners.append(load_emulator(path))
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from exc
        return cls(runners[0], runners[1], capacity)

    @property
    def names(self) -> tuple[str, str]:
        """Model labels for metrics ("" when absent)."""
        return (
            self.full.path.stem if self.full is not None else "",
            self.lite.path.stem if self.lite is not None else "",
        )

    def new_slot(self) -> EmulatorSlot:
        return EmulatorSlot(
            self.full.new_state(self.capacity) if self.full is not None else None,
            self.lite.new_state(self.capacity) if self.lite is not None else None,
            max(self.token_dim, 1),
        )

    def reset(self, slot: EmulatorSlot, static: FloatArray) -> None:
        """Start both emulators of a match from its static vector."""
        if self.full is not None and slot.full is not None:
            self.full.reset(slot.full, static)
        if self.lite is not None and slot.lite is not None:
            self.lite.reset(slot.lite, static)
        slot.ready = True
        slot.full_steps += 1

    def step(
        self, slot: EmulatorSlot, token: FloatArray
    ) -> tuple[StepOutput | None, StepOutput | None]:
        """Both emulators one point forward (the full token; lite zeroes its book columns)."""
        return self.step_full(slot, token), self.step_lite(slot, token)

    def step_full(self, slot: EmulatorSlot, token: FloatArray) -> StepOutput | None:
        """Emu-full one point forward (None when not loaded or not started)."""
        if not slot.ready or self.full is None or slot.full is None:
            return None
        slot.full_steps += 1
        return self.full.step(slot.full, token)

    def speculate_full(
        self, slot: EmulatorSlot, token: FloatArray, branch: int
    ) -> StepOutput | None:
        """What `step_full(slot, token)` would return, into side branch 0 or 1 (the state stays)."""
        if not slot.ready or self.full is None or slot.full is None:
            return None
        return self.full.speculate(slot.full, token, branch)

    def commit_full(self, slot: EmulatorSlot, branch: int) -> StepOutput | None:
        """Emu-full one point forward by the step `speculate_full` put in `branch`."""
        if not slot.ready or self.full is None or slot.full is None:
            return None
        slot.full_steps += 1
        return self.full.commit(slot.full, branch)

    def step_lite(self, slot: EmulatorSlot, token: FloatArray) -> StepOutput | None:
        """Emu-lite one point forward on a copy of the token with the book columns zeroed."""
        if not slot.ready or self.lite is None or slot.lite is None:
            return None
        lite_token = slot.lite_token
        lite_token[:] = token
        return self.lite.step(slot.lite, apply_variant(lite_token, VARIANT_LITE))
