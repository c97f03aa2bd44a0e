"""Trust-gate thresholds (engine.toml ``[gate]``). Probabilities are in probability units:
0.01 is one percentage point ("1 ppt" in the blueprint)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GateConfig:
    """Every threshold of DESIGN.md §6; defaults follow the blueprint where it gives one."""

    # (i) the emulator understands the market: mean |emu - market| over the last N points
    emu_error_window: int = 20
    emu_error_max: float = 0.01
    emu_min_points: int = 5  # fewer observed points than this: not yet proven
    # (ii) fair must differ from the market by more than the required edge
    min_edge: float = 0.02
    # medical time-out: no new entries for this many points, then a larger edge until point N
    mto_block_points: int = 6
    mto_edge_points: int = 20
    mto_edge_multiplier: float = 2.0
    # liquidity collapse: depth below this share of the match's median depth AND the cumulative
    # size on the ladder below the floor; the median needs this many observations first
    # depth = £ on the best `depth_levels` prices of both sides (engine.gate.book.liquidity)
    depth_levels: int = 3
    collapse_depth_fraction: float = 0.25
    collapse_min_cum_size: float = 100.0
    depth_median_min_samples: int = 10
    # distress head probability at or above which trading is blocked
    distress_threshold: float = 0.5
    # staleness: seconds without a market-stream message / a score tick for the match
    stream_stale_s: float = 10.0
    score_stale_s: float = 90.0

    def validate(self) -> None:
        """Cross-field rules; parse_section prefixes the section name."""
        if self.emu_error_window < 1:
            raise ValueError("emu_error_window: must be at least 1")
        if not 1 <= self.emu_min_points <= self.emu_error_window:
            raise ValueError("emu_min_points: must be between 1 and emu_error_window")
        for name in ("emu_error_max", "min_edge", "collapse_min_cum_size"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"{name}: must not be negative")
        if not 0 <= self.mto_block_points <= self.mto_edge_points:
            raise ValueError("mto_block_points: must be between 0 and mto_edge_points")
        if self.mto_edge_multiplier < 1.0:
            raise ValueError("mto_edge_multiplier: must be at least 1")
        if self.depth_levels < 1:
            raise ValueError("depth_levels: must be at least 1")
        if not 0.0 < self.collapse_depth_fraction <= 1.0:
            raise ValueError("collapse_depth_fraction: must be in (0, 1]")
        if self.depth_median_min_samples < 1:
            raise ValueError("depth_median_min_samples: must be at least 1")
        if not 0.0 < self.distress_threshold <= 1.0:
            raise ValueError("distress_threshold: must be in (0, 1]")
        if self.stream_stale_s <= 0.0 or self.score_stale_s <= 0.0:
            raise ValueError("stream_stale_s: staleness limits must be positive")
