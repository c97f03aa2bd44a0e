"""The liquidity-collapse feature rule, shared by the engine and the training aligner.

One definition so that the `liq_collapse` token column means the same thing when the emulator is
trained (training/align.py) and when the engine steps it (engine/core/book_features.py): the top
DEPTH_LEVELS depth of both sides of player 1's book below COLLAPSE_SHARE of the median of this
match's per-point depths so far, once MIN_HISTORY points have been seen. (The trust gate's collapse
check, engine/gate, additionally needs the ladder under its £ floor.)
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Final

DEPTH_LEVELS: Final = 3
COLLAPSE_SHARE: Final = 0.25
MIN_HISTORY: Final = 5


def is_collapse(depth: float, history: Sequence[float]) -> bool:
    """`depth` below COLLAPSE_SHARE of the median of `history` (False before MIN_HISTORY)."""
    if len(history) < MIN_HISTORY:
        return False
    return depth < COLLAPSE_SHARE * statistics.median(history)
