"""Match formats: best-of, the deciding-set rule and no-ad scoring.

Shared by the pricing chain, the score state machine and the corpus builder so that all three agree
on what a legal score is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

FinalSetRule = Literal["adv", "tb7@6", "tb7@12", "tb10@6"]
FINAL_SET_RULES: Final[tuple[str, ...]] = get_args(FinalSetRule)


@dataclass(frozen=True, slots=True)
class MatchRules:
    """How a match is scored.

    best_of: 3 or 5 sets. final_set: the deciding set's rule — `adv` (advantage set, no tiebreak),
    `tb7@6` (7-point tiebreak at 6-6), `tb7@12` (7-point tiebreak at 12-12), `tb10@6` (10-point
    match tiebreak at 6-6). Non-deciding sets always play a 7-point tiebreak at 6-6.
    no_ad: games end at the first point after deuce (receiver's choice of side ignored).
    """

    best_of: int = 3
    final_set: FinalSetRule = "tb7@6"
    no_ad: bool = False

    def __post_init__(self) -> None:
        if self.best_of not in (3, 5):
            raise ValueError(f"best_of: must be 3 or 5, got {self.best_of!r}")
        if self.final_set not in FINAL_SET_RULES:
            raise ValueError(
                f"final_set: must be one of {list(FINAL_SET_RULES)}, got {self.final_set!r}"
            )

    @property
    def sets_to_win(self) -> int:
        return self.best_of // 2 + 1

    def is_deciding_set(self, sets1: int, sets2: int) -> bool:
        return sets1 == sets2 == self.sets_to_win - 1

    def tiebreak_at(self, deciding: bool) -> int | None:
        """Games-all score at which a tiebreak starts in this set, None for an advantage set."""
        if not deciding:
            return 6
        return {"adv": None, "tb7@6": 6, "tb7@12": 12, "tb10@6": 6}[self.final_set]

    def tiebreak_target(self, deciding: bool) -> int:
        """Points needed to win this set's tiebreak (by two)."""
        return 10 if deciding and self.final_set == "tb10@6" else 7
