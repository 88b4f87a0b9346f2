"""Reflex states (AppState is the root; each page has a substate) and pure view helpers."""
