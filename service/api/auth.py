"""Personal API tokens, and who I am."""

from __future__ import annotations

from flask_login import login_user
from flask_smorest import Blueprint

from service.api import schemas as s
from service.api.common import ID, actor, no_content
from service.auth import service as tokens
from service.auth.limits import login_limits
from service.auth.login import mark_login, sign_out, via_token
from service.kernel.errors import GoalflowError
from service.org import service as org

bp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Tokens, sessions and my account")


@bp.post("/auth/tokens")
@login_limits
@bp.arguments(s.TokenRequestSchema)
@bp.response(201, s.TokenCreatedSchema)
@bp.doc(security=[], responses={"401": {"description": "Wrong email or password"}, "429": {"description": "Too many failed attempts"}})
def create_token(body: dict):
    """Exchange an email and password for a personal API token.

    The token is shown once; send it as `Authorization: Bearer <token>`. More than ten failed
    attempts a minute for one account or from one address answer 429.
    """
    user = org.authenticate(body["email"], body["password"])
    if user is None:
        raise GoalflowError("invalid_credentials")
    row, secret = tokens.issue_token(user=user, name=body["name"], days=body.get("days"))
    return {"token": secret, **{name: getattr(row, name) for name in s.TokenSchema().fields}}


@bp.get("/auth/tokens")
@bp.response(200, s.TokenSchema(many=True))
def list_tokens():
    """My tokens (never their secrets)."""
    return tokens.list_tokens(actor())


@bp.delete(f"/auth/tokens/<{ID}:token_id>")
@bp.response(204)
def revoke_token(token_id: int):
    """Revoke one of my tokens; it stops working at once."""
    tokens.revoke_token(user=actor(), token_id=token_id)
    return no_content()


@bp.post("/auth/logout")
@bp.response(204)
def logout():
    """End my browser session for good (a copy of its cookie is refused afterwards)."""
    actor()
    sign_out()
    return no_content()


@bp.get("/me")
@bp.response(200, s.MeSchema)
def me():
    """Who I am, with my roles; for a browser session also the CSRF token to send with changes."""
    return actor()


@bp.post("/me/password")
@login_limits
@bp.arguments(s.PasswordChangeSchema)
@bp.response(204)
def change_password(body: dict):
    """Change my password: every session and every API token of mine ends, the calling one too.

    A browser that calls it stays signed in (with a new session); a program asks for a new token.
    """
    user = actor()
    try:
        org.change_password(user=user, current=body["current_password"], new=body["new_password"])
    except GoalflowError as exc:
        if "current_password" in exc.fields:
            raise GoalflowError("invalid_credentials") from exc  # a wrong password counts as a failed sign-in
        raise
    if not via_token():
        login_user(user)  # this browser carries on with the new generation
        mark_login()
    return no_content()
