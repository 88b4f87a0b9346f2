"""Offline evaluation: ranking metrics and the strategy comparison."""
