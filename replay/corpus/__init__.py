"""The replay corpus: real slam point sequences turned into timestamped score-tick files, plus a
calibrated simulated Betfair market (historical stream format) for each match.

Offline only: the daemon never imports this package (DESIGN.md §2).
"""
