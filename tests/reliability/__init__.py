"""Reliability suite: fault-injection matrix, concurrency and bad input (issue 5)."""
