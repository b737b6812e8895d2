"""The battleplace dialect."""
