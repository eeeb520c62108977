"""Metrics and baselines for every task."""
