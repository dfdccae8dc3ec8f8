"""The JSON API, version 1: its blueprints, the OpenAPI document and who may call it."""

from __future__ import annotations

from flask import Flask

from service.api import approvals, auth, docs, documents, goals, org, progress, signatures
from service.api.common import GoalflowApi, authenticate, refuse_repeated_parameters

BLUEPRINTS = (auth.bp, org.bp, goals.bp, approvals.bp, progress.bp)
for _bp in BLUEPRINTS:  # once, at import: a blueprint serves every app made in this process
    _bp.before_request(authenticate)

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A personal token from POST /api/v1/auth/tokens"},
    "cookieAuth": {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "A browser session; every change also needs the X-CSRFToken header (GET /api/v1/me gives it)",
    },
}


def register(app: Flask) -> None:
    app.config.update(
        API_TITLE="goalflow",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The annual goals of a regional administration: plans, goals, approvals and their history. "
                "Errors are application/problem+json (RFC 9457).",
            },
            # A browser session works too (see cookieAuth); programs use a token.
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": SECURITY_SCHEMES},
        },
    )
    app.before_request(refuse_repeated_parameters)  # every /api/ path, the documents' endpoints too
    api = GoalflowApi(app)
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
    api.register_blueprint(documents.bp)  # its own authentication hook: the import takes multipart
    api.register_blueprint(signatures.bp)  # likewise: the signed report is uploaded as multipart
    app.register_blueprint(docs.bp)
    app.extensions["goalflow_api"] = api
