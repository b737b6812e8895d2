"""The account store in SQL, and its hot-path statements."""
