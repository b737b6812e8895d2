"""The kongregate dialect."""
