"""LLM access through HTTP APIs (OpenAI-compatible chat completions)."""
