"""rjbot: intake and scheduling assistant for a Restorative Justice service."""
