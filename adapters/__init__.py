"""Edges to the outside world: Betfair stream and betting API, score feeds, simulated exchange."""
