"""Courtside engine core: state, models, gates and the daemon's composition root."""

__version__ = "0.1.0"
