"""App kinds and what runs them: the built-in `sample` app, `upstream` URLs, `source` apps from `app.yaml`."""
