"""Push notifications in SQL: the store services use, and the push relay's queries."""
