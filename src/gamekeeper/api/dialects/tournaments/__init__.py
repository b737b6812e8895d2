"""The tournaments dialect."""
