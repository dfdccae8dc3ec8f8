"""The JSON API, version 1."""

from flask import Flask


def register(app: Flask) -> None:
    """Registers the API blueprints."""
