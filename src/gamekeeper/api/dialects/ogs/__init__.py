"""The ogs dialect."""
