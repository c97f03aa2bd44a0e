"""Loopback exchange: the Exchange Stream API and identity endpoints served from a recorded file.

Product code (demo mode, paper trading) as much as a test fixture: `server.LoopbackExchange`.
"""
