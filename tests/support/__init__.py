"""Test-only helpers: sandbox configs and tokens, headless OAuth flows, the stand-in `databricks` CLI."""
