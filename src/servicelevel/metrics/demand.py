"""demand metrics (in progress)."""
