"""Matchmaking: the queue engine, client auth backends, sessions, results and ratings."""
