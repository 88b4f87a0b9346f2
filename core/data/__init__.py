"""Data in and out: the real-format loader, the causal simulator, bulk writes, profiles."""
