"""Historical replay, the corpus builder and backtest reports."""
