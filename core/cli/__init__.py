"""The `recsys` command line: one entry point for every job (typer)."""
