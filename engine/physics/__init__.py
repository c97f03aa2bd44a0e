"""The tennis "physics" model: a point -> game -> set -> match Markov chain (DESIGN.md §4)."""
