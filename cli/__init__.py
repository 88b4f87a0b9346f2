"""The `recsys` command line: one entry point for every job (typer).

A top-level package, not part of core: `recsys api` serves and prints the GraphQL schema, so
the CLI imports api, and core must import neither api, web nor cli (DESIGN.md; checked by
tests/test_layout.py).
"""
