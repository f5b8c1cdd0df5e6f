"""Databricks Apps API Explorer."""

__version__ = "0.1.0"
