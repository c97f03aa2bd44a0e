"""The daemon's composition root: `courtside run` wires adapters (stream, score feed, betting,
simulated exchange, loopback servers) to the engine core. Lives outside `engine` because it is the
one place that imports both sides (DESIGN.md §2)."""
