"""Tidepool's user interfaces: the Gradio studio with its live WebSocket viewport, and the CLI."""
