"""Gamekeeper: a self-hosted game-services server."""

__version__ = "0.1.0"
