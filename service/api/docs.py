"""/api/docs: Swagger UI, served by the app itself from the swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from service.kernel.errors import GoalflowError

OWN = Path(__file__).resolve().parent / "static"
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
@bp.get("/api/docs/")
def docs_page():
    return send_from_directory(OWN, "docs.html")


@bp.get("/api/docs/<name>")
def docs_asset(name: str):
    if name == "goalflow-docs.js":
        return send_from_directory(OWN, name)
    if name not in ASSETS:
        raise GoalflowError("not_found")
    return send_from_directory(swagger_ui_path, name)
