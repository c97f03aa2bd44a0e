"""The trust gate (DESIGN.md §6): decides, per event, whether the engine may open a new position.

`config.GateConfig` holds every threshold (engine.toml ``[gate]``); `state.GateState` is the small
per-match memory (rolling emulator error, running median book depth); `decide.evaluate` is the pure
decision; `stats.GateStats` counts decisions by reason; `mto.MtoTracker` follows points since a
medical time-out from score ticks.
"""

from engine.gate.config import GateConfig
from engine.gate.decide import GateDecision, GateInputs, evaluate
from engine.gate.mto import MtoTracker
from engine.gate.reasons import PRIORITY, GateReason
from engine.gate.state import GateState
from engine.gate.stats import GateStats

__all__ = [
    "PRIORITY",
    "GateConfig",
    "GateDecision",
    "GateInputs",
    "GateReason",
    "GateState",
    "GateStats",
    "MtoTracker",
    "evaluate",
]
