"""A typed wrapper around ``numba.njit`` so strict mypy keeps the kernels' signatures.

Every kernel is compiled with ``cache=True`` (DESIGN.md §3): a restarted process loads machine
code from ``__pycache__`` instead of recompiling, which keeps the CLI and the daemon quick to start.
numba checks only the defining file's timestamp, never the files of the kernels and constants it
calls, so kernels that call each other must share one module (`engine.physics.chain`). Kernels
take many positional arguments (numba has no keyword-only parameters), hence the
``noqa: PLR0917`` on their definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def njit_cached(fn: F) -> F:
    """Compile `fn` in nopython mode with an on-disk cache; mypy keeps seeing `fn`'s signature.

    The GIL stays held (no ``nogil``): the table cache is shared mutable state, and holding the
    GIL makes each compiled call atomic with respect to other Python threads.
    """
    return cast(F, numba.njit(cache=True, error_model="numpy")(fn))
