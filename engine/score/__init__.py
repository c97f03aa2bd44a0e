"""Match score state: the tick schema, the tennis score state machine, trust and counters."""
