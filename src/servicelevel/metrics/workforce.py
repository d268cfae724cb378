"""workforce metrics (in progress)."""
