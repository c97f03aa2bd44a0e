"""Score feeds: tick files, the provider WebSocket client and loopback server, Betfair scores."""
