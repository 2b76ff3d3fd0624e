"""qinglian."""
