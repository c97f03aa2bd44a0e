"""The engine core: per-match state and the synchronous event path (DESIGN.md §3).

`engine.Engine` is called by every source (market stream, score feed, timers) and runs
parse → update → features → model → physics → gate → strategy → orders as one synchronous call;
the only I/O it starts (order placement, journal writes) is scheduled through an `OrderSink`, never
awaited inline. Live, paper, demo and replay share every line: they differ only in the clock, the
sources that call in and the exchange behind the order sink.
"""

from engine.core.config import CoreConfig
from engine.core.engine import Engine, EngineParts
from engine.core.orders import OrderSink

__all__ = ["CoreConfig", "Engine", "EngineParts", "OrderSink"]
