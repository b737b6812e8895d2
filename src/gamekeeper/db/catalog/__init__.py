"""The catalog stores in SQL: listings and their query, tokens, developer identities, points."""
