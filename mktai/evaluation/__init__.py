"""Evaluation: metrics, gates and reports; fed plain arrays by the families (never imports tasks)."""
