"""The ogp dialect."""
