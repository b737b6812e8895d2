"""The matchmaking stores in SQL: requests, sessions, servers; results and ratings."""
