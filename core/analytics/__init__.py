"""Client analytics: median profiles per product and per-client conversion probabilities."""
