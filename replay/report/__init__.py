"""Replay reports: numbers (report.json) and a self-contained page with figures (report.html)."""
