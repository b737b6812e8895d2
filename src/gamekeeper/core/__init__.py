"""The domain: pure Python, no HTTP, no SQL strings."""
