"""The Gradio UI: layout and thin handlers over the engine (explorer.session)."""
