"""Owners: who each credential, webhook and event belongs to (a game, an operator, a platform)."""
