"""Cast sessions in SQL."""
