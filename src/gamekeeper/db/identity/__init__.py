"""The identity store in SQL."""
