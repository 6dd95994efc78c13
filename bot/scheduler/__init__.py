"""Job kinds, safe-time rules and the runner that wakes the runtime when jobs come due."""
