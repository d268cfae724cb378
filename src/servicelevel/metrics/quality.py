"""quality metrics (in progress)."""
