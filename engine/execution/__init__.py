"""Execution: staking, pre-trade risk, the order manager and its journal, positions.

The engine reaches an exchange only through `engine.execution.port.ExchangePort`.
"""
