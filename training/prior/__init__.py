"""Learned serve-point prior (DESIGN.md §4): a 128-64-1 SiLU MLP from surface Elo difference and
rolling serve/return statistics, computed only from earlier matches, to P(server wins a point)."""
