"""Betfair Exchange adapter: stream messages, historical files, the live stream client and loopback.

Market data flows: bytes -> `messages.decode_message` -> `processor.StreamProcessor` ->
`engine.market.MarketCache` (books) + `engine.market.MarketUpdate` (what changed).
"""
