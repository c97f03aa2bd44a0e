"""`courtside train` and `courtside export` (one module each, named in engine/cli.py COMMANDS)."""
