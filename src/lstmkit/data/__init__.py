"""Data in: bundled datasets, user tables, windows and scalers."""
