"""Developers, games, credentials, players, linked identities and sessions."""
