"""Trading strategies built on the engine's small strategy API."""
