"""Dialects: thin adapters from each public wire format to the core."""
