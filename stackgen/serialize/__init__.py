"""Formats only: YAML and Jinja2 text, with no knowledge of runners or targets."""
