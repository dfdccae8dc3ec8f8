"""An upload waiting for its confirmation is named by an opaque id of one strict shape, in one folder.

Whatever the session says (it is signed, but a leaked or forged cookie must not matter), no path
is built from it: cancelling or confirming with an absolute path or `..` reads and deletes nothing.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.goals import uploads
from service.goals.models import Plan
from service.kernel.common import settings
from tests.documents_db.conftest import HASKOVO
from tests.security.conftest import csrf_of, sign_in


@pytest.fixture
def secretary(client, haskovo_admin):
    sign_in(client, haskovo_admin.secretary, haskovo_admin.password)
    return haskovo_admin


def forge(client, token: str, filename: str = "x.txt") -> None:
    with client.session_transaction() as session:
        session["plan_import"] = {"token": token, "filename": filename}


def plans() -> int:
    return db.session.scalar(select(func.count()).select_from(Plan))


def victims(tmp_path: Path) -> list[tuple[str, Path]]:
    """Files the process can write, and the session values that would name them."""
    outside = tmp_path / "outside.txt"
    in_var = Path(settings().VAR_DIR) / "victim.txt"
    for path in (outside, in_var):
        shutil.copyfile(HASKOVO, path)  # a real goals document: reading it would import it
    return [
        (str(outside), outside),                 # an absolute path wins over the folder in a join
        ("../victim.txt", in_var),               # a way out of the folder
        ("..", in_var.parent),                   # the folder above
        (str(uploads.folder()), uploads.folder()),
    ]


def test_cancel_with_a_forged_session_deletes_nothing(client, secretary, tmp_path):
    page = client.get("/plans/import")
    for token, path in victims(tmp_path):
        forge(client, token)
        answer = client.post("/plans/import/cancel", data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 302
        assert path.exists(), f"{token!r} deleted {path}"
        with client.session_transaction() as session:
            assert "plan_import" not in session, "the forged value is forgotten"


def test_confirm_with_a_forged_session_reads_nothing(client, secretary, tmp_path):
    page = client.get("/plans/import")
    for token, path in victims(tmp_path):
        forge(client, token)
        answer = client.post("/plans/import/confirm", data={"csrf_token": csrf_of(page.text), "token": token})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/plans/import"), token
        assert plans() == 0, f"{token!r} read {path} and imported it"
        assert path.exists()


def test_a_new_preview_after_a_forged_session_deletes_nothing(client, secretary, tmp_path, haskovo_bytes):
    page = client.get("/plans/import")
    for token, path in victims(tmp_path):
        forge(client, token)
        preview = client.post("/plans/import", content_type="multipart/form-data", data={
            "csrf_token": csrf_of(page.text), "file": (io.BytesIO(haskovo_bytes), "haskovo.txt")})
        assert preview.status_code == 200
        assert path.exists(), f"{token!r} deleted {path}"


def test_the_honest_flow_keeps_its_file_under_an_opaque_id(client, secretary, haskovo_bytes):
    page = client.get("/plans/import")
    preview = client.post("/plans/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(page.text), "file": (io.BytesIO(haskovo_bytes), "../../etc/passwd")})
    assert preview.status_code == 200
    with client.session_transaction() as session:
        token = session["plan_import"]["token"]
    assert uploads.valid_id(token) and (uploads.folder() / token).read_bytes() == haskovo_bytes
    assert all(uploads.valid_id(p.name) for p in uploads.folder().iterdir()), "the client's file name names no file"
    confirmed = client.post("/plans/import/confirm", data={"csrf_token": csrf_of(preview.text), "token": token})
    assert confirmed.status_code == 302 and plans() == 1
    assert not (uploads.folder() / token).exists(), "a confirmed upload is removed"


@pytest.mark.parametrize("value", ["", "a" * 31, "a" * 33, "/" + "a" * 31, "../" + "a" * 29, "a" * 31 + "\n", None, 7])
def test_only_the_generated_shape_is_an_id(ctx, value):
    assert not uploads.valid_id(value)
    assert uploads.read(value) is None
    uploads.discard(value)  # nothing to do, nothing raised
