"""The JSON API under /api/v1, described by OpenAPI at /api/openapi.json and shown at /api/docs."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    from service.api.v1 import register

    register(app)
