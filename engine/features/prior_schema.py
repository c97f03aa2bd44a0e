"""Input schema of the learned serve-point prior (DESIGN.md §4): the one list of pre-match
features, shared by training (training/prior/) and whoever computes them for the physics model.

All values come from matches that finished before the match being priced.
"""

from __future__ import annotations

from typing import Final

from engine.features.schema import hash_document

PRIOR_SCHEMA_VERSION: Final = 1
PRIOR_FEATURES: Final[tuple[str, ...]] = (
    "surface_elo_diff",  # server − returner, surface Elo, / 400
    "elo_diff",  # server − returner, overall Elo, / 400
    "server_serve",  # server's decayed serve-point win share, shrunk to the tour mean
    "server_serve_surface",  # the same on this surface, shrunk to the server's overall share
    "returner_return",  # returner's decayed return-point win share, shrunk to the tour mean
    "returner_return_surface",  # the same on this surface, shrunk to the returner's overall share
    "server_experience",  # log1p(tour-level matches played) / 5
    "returner_experience",
    "wta",
    "best_of_5",
    "surface_hard",
    "surface_clay",
    "surface_grass",
    "surface_carpet",
)
PRIOR_DIM: Final = len(PRIOR_FEATURES)
PRIOR_SCHEMA_HASH: Final[str] = hash_document(
    {"version": PRIOR_SCHEMA_VERSION, "prior_features": list(PRIOR_FEATURES)}
)
