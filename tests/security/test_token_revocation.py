"""A new password, or a disabled account, ends every token and every session; enabling revives none.

An account is never deleted (the audit trail names its person, and the database refuses): disabling
it is how a person is removed.
"""

from __future__ import annotations

import pytest

from service.auth.service import issue_token
from service.extensions import db
from service.org.models import ApiToken
from tests.web.test_pages import login, token


def _me(client, secret: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code


def _tokens(user, n=2) -> list[str]:
    return [issue_token(user=user, name=f"program {i}")[1] for i in range(n)]


def _browser(app, user, password):
    return login(app.test_client(), user, password)


def test_a_password_changed_through_the_api_revokes_every_token(world, ctx, client):
    first, second = _tokens(world.head_a)
    others = _tokens(world.head_b, 1)
    elsewhere = _browser(ctx, world.head_a, world.password)
    assert _me(client, first) == _me(client, second) == 200

    changed = client.post("/api/v1/me/password", headers={"Authorization": f"Bearer {first}"},
                          json={"current_password": world.password, "new_password": "a-new-password-1"})
    assert changed.status_code == 204, changed.text
    assert _me(client, first) == _me(client, second) == 401
    assert elsewhere.get("/api/v1/me").status_code == 401  # and every browser session
    assert _me(client, others[0]) == 200  # nobody else's
    assert all(t.revoked_at is not None for t in db.session.query(ApiToken).filter_by(user_id=world.head_a.id))
    assert _me(client, _tokens(world.head_a, 1)[0]) == 200  # a token made afterwards works


def test_a_password_changed_on_the_account_page_revokes_every_token(world, ctx, client):
    (old,) = _tokens(world.head_a, 1)
    elsewhere = _browser(ctx, world.head_a, world.password)
    login(client, world.head_a, world.password)
    response = client.post("/account/password", data={
        "current_password": world.password, "new_password": "a-new-password-1", "confirm_password": "a-new-password-1",
        "csrf_token": token(client, "/account"),
    })
    assert response.status_code == 302, response.text
    assert _me(ctx.test_client(), old) == 401
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200  # the browser that changed it carries on


@pytest.mark.parametrize("through", ["api", "page"])
def test_a_disabled_account_keeps_no_token_or_session_when_enabled_again(world, ctx, client, through):
    tokens = _tokens(world.expert_a)
    session = _browser(ctx, world.expert_a, world.password)
    (admin_token,) = _tokens(world.sysadmin, 1)
    admin_page = _browser(ctx, world.sysadmin, world.password)

    def set_active(active: bool):
        if through == "api":
            answer = client.patch(f"/api/v1/users/{world.expert_a.id}", json={"active": active},
                                  headers={"Authorization": f"Bearer {admin_token}"})
            assert answer.status_code == 200, answer.text
        else:
            what = "enable" if active else "disable"
            answer = admin_page.post(f"/admin/users/{world.expert_a.id}/{what}",
                                     data={"csrf_token": token(admin_page, "/admin")})
            assert answer.status_code == 302, answer.text

    set_active(False)
    assert [_me(client, t) for t in tokens] == [401, 401]
    assert session.get("/api/v1/me").status_code == 401
    set_active(True)
    assert [_me(client, t) for t in tokens] == [401, 401]  # enabling again revives no token...
    assert session.get("/api/v1/me").status_code == 401  # ...and no session
    assert _browser(ctx, world.expert_a, world.password).get("/api/v1/me").status_code == 200  # signing in works
    assert _me(client, _tokens(world.expert_a, 1)[0]) == 200


def test_the_revocation_is_in_the_audit_trail(world, client):
    from service.audit.models import Event

    (old,) = _tokens(world.head_a, 1)
    client.post("/api/v1/me/password", headers={"Authorization": f"Bearer {old}"},
                json={"current_password": world.password, "new_password": "a-new-password-1"})
    event = db.session.query(Event).filter_by(action="tokens_revoked", subject_id=world.head_a.id).one()
    assert event.after == {"tokens": 1, "why": "password_changed"}
