"""The built-in sample app: a FastAPI app whose `/api/` routes are worth exploring."""

from explorer.sandbox.apps.sample.app import create_sample_app

__all__ = ["create_sample_app"]
