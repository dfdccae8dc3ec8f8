"""What every endpoint of the JSON API shares: who is calling, paging, versions and content types."""

from __future__ import annotations

import http
import re

from flask import Response, g, request
from flask_login import current_user
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from service.api.schemas import ProblemSchema
from service.auth.service import user_for_token
from service.extensions import db, login_manager
from service.kernel.errors import GoalflowError
from service.org.models import User

ID = "int(max=2147483647)"  # a path id beyond the databases' integer range is simply not found
PROBLEM = "application/problem+json"
JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
PUBLIC_ENDPOINTS = {"auth.create_token"}
ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,9})"?\s*$')

IF_MATCH_DOC = {
    "in": "header",
    "name": "If-Match",
    "schema": {"type": "string", "pattern": r'^(W/)?"[0-9]{1,9}"$'},
    "description": "The ETag (the version) you last read; a change to a newer version answers 412",
}
ETAG_HEADER_DOC = {"ETag": {"description": "The version of the object", "schema": {"type": "string"}}}


def refuse_repeated_parameters() -> None:
    """`?state=done&state=planned` is refused (422 naming the parameter), not read as its first value:
    no parameter of the API takes a list, and a client that sends one twice means something we do not do."""
    if not request.path.startswith("/api/"):
        return
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise GoalflowError("invalid_input", fields={name: ["given more than once: send it once"] for name in repeated})


class GoalflowApi(Api):
    """flask-smorest, answering errors as problem documents (service/errors_http.py does it app-wide)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Left to errors_http: one handler for the whole app, pages for people and problems for programs."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem document (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def authenticate() -> None:
    """Runs before every /api/v1 request.

    A call with an Authorization header is authenticated by its token alone, never by a cookie that
    happens to come with it; a call without one needs a signed-in session (and CSRF, see app.py).
    """
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        user = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise GoalflowError("unauthenticated")
        g.token_auth = True
        login_manager._update_request_context_with_user(user)
    elif request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        raise GoalflowError("unauthenticated")
    _check_content_type()


def _check_content_type() -> None:
    """A body that is not JSON is refused up front (415), rather than read as if it were missing."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if has_body and not JSON_TYPES.match(request.mimetype or ""):
        raise GoalflowError("unsupported_media_type")


def actor() -> User:
    user = current_user._get_current_object()
    if not getattr(user, "is_authenticated", False):
        raise GoalflowError("unauthenticated")
    return user


def page(query, args: dict) -> dict:
    """One page of a SELECT, with where it is in the whole."""
    found = db.paginate(query, page=args["page"], per_page=args["per_page"], max_per_page=100, error_out=False)
    return {"items": found.items, "page": found.page, "per_page": found.per_page, "total": found.total or 0,
            "pages": found.pages}


def page_list(items: list, args: dict) -> dict:
    """The same, for a list already filtered in Python (visibility rules that SQL cannot say)."""
    size, number = args["per_page"], args["page"]
    return {"items": items[(number - 1) * size: number * size], "page": number, "per_page": size,
            "total": len(items), "pages": -(-len(items) // size)}


def expected_version(*, required: bool) -> int | None:
    """The version named by If-Match; `*` or no header means any (unless the endpoint requires one)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        if required and raw is None:
            raise GoalflowError("precondition_required")
        return None
    match = ETAG.match(raw)
    if match is None:
        raise GoalflowError("invalid_input", fields={"If-Match": 'the ETag as it was sent, e.g. "3"'})
    return int(match.group(1))


def with_etag(body, version: int, status: int = 200) -> tuple:
    return body, status, {"ETag": f'"{version}"'}


def no_content() -> Response:
    return Response(status=204)
