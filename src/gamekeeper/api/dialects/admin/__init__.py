"""The admin dialect."""
