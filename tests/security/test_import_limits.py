"""An import is bounded: the decompressed size of each part, the rows, and the time, each with its
own code; a large file is imported by the worker, with progress the page and the API can poll.

The files are built here with zipfile: a real exported DOCX whose table is repeated with varied
words until document.xml reaches the size wanted (95 MB compresses to about 6 MB, 20 MB to 1.4 MB,
as in the files that exhausted the web process). One test serves the app from a real gunicorn
and measures the peak resident size of its worker while it answers the 95 MB one.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.documents import Goal as DocGoal
from service.documents import PlanDocument, export_docx
from service.extensions import db
from service.goals.models import Goal, Plan
from service.kernel.common import settings
from tests.security.conftest import csrf_of, sign_in
from tests.worker.processes import BIN, ROOT, settings_env, wait_until
from tests.worker.sink import free_port

MB = 1024 * 1024


@cache
def inflated_docx(xml_bytes: int, seed: int = 12) -> bytes:
    """A DOCX whose goals table holds rows of varied words until document.xml has `xml_bytes`."""
    base = export_docx(PlanDocument(kind="plan", year=2031, administration="Тест",
                                    goals=[DocGoal(number=1, title="ЗАГЛАВИЕ", units=["АПОФУС"])]))
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["word/document.xml"].decode()
    at = xml.index("ЗАГЛАВИЕ")
    start, end = xml.rindex("<w:tr", 0, at), xml.index("</w:tr>", at) + len("</w:tr>")
    row, rng = xml[start:end], random.Random(seed)
    words = ["".join(rng.choice("абвгдежзийклмнопрстуфхцчшщъьюя") for _ in range(rng.randint(3, 10)))
             for _ in range(3000)]
    rows, size, number = [], len(xml), 1
    while size < xml_bytes:
        number += 1
        rows.append(row.replace("ЗАГЛАВИЕ", " ".join(rng.choice(words) for _ in range(12)))
                    .replace(">1<", f">{number}<", 1))
        size += len(rows[-1].encode())
    parts["word/document.xml"] = (xml[:end] + "".join(rows) + xml[end:]).encode()
    return _zipped(parts)


def _zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def lying_docx(actual: int, declared: int) -> bytes:
    """document.xml holds `actual` bytes but its headers say `declared`."""
    data = bytearray(inflated_docx(actual))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    real = info.file_size.to_bytes(4, "little")
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.find(signature)
        while at != -1:
            if data[at + offset:at + offset + 4] == real:
                data[at + offset:at + offset + 4] = declared.to_bytes(4, "little")
            at = data.find(signature, at + 4)
    return bytes(data)


def api_import(client, token: str, data: bytes, name: str = "plan.docx", dry_run: bool = False):
    return client.post(f"/api/v1/plans/import?dry_run={'true' if dry_run else 'false'}",
                       content_type="multipart/form-data", headers={"Authorization": f"Bearer {token}"},
                       data={"file": (io.BytesIO(data), name)})


def _jobs():
    from service.goals.models import ImportJob  # imported late: the file also runs against older code

    return ImportJob


def nothing_written(haskovo) -> bool:
    db.session.expire_all()
    plans = select(func.count()).select_from(Plan).where(Plan.administration_id == haskovo.admin.id)
    return db.session.scalar(plans) == 0


def test_the_built_files_are_the_ones_of_the_report():
    for xml, low, high in ((95 * MB, 5.5, 7.0), (20 * MB, 1.0, 1.6)):
        data = inflated_docx(xml)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.getinfo("word/document.xml").file_size >= xml
        assert low * 1e6 < len(data) < high * 1e6, len(data)


@pytest.mark.parametrize("xml", [95 * MB, 20 * MB])
def test_a_part_too_large_is_refused_before_parsing(client, haskovo_admin, xml):
    data = inflated_docx(xml)
    started = time.monotonic()
    answer = api_import(client, haskovo_admin.token, data)
    assert answer.status_code == 413, answer.text[:300]
    body = answer.json
    assert body["code"] == "part_too_large" and "word/document.xml" in body["detail"]
    assert time.monotonic() - started < 5, "refused from the zip's directory, not after parsing"
    assert nothing_written(haskovo_admin) and db.session.scalar(select(func.count()).select_from(_jobs())) == 0


def test_the_actual_size_is_counted_while_reading(client, haskovo_admin, monkeypatch):
    """A part that declares less than it holds is refused while it is decompressed, before any parser."""
    monkeypatch.setattr(settings(), "IMPORT_MAX_PART_BYTES", 1 * MB)
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 100 * MB)
    lying = lying_docx(actual=3 * MB, declared=900 * 1024)
    answer = api_import(client, haskovo_admin.token, lying)
    assert answer.status_code in (413, 415) and answer.json["code"] in ("part_too_large", "unsupported")
    assert nothing_written(haskovo_admin)


def test_too_many_rows_is_refused_with_its_own_code(client, haskovo_admin, haskovo_bytes, monkeypatch):
    many = inflated_docx(300 * 1024)  # about 180 goal rows
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 100 * MB)
    monkeypatch.setattr(settings(), "IMPORT_MAX_ROWS", 100)
    answer = api_import(client, haskovo_admin.token, many)
    assert answer.status_code == 413 and answer.json["code"] == "too_many_rows", answer.text[:300]
    assert "100" in answer.json["detail"]
    lines = haskovo_bytes + b"\n" * 5000  # extracted text: lines are bounded before they become cells
    assert api_import(client, haskovo_admin.token, lines, "plan.txt").json["code"] == "too_many_rows"
    monkeypatch.setattr(settings(), "IMPORT_MAX_ROWS", 2000)
    assert api_import(client, haskovo_admin.token, many, dry_run=True).status_code == 200
    assert nothing_written(haskovo_admin)


def test_too_long_is_refused_with_its_own_code_and_nothing_is_written(client, haskovo_admin, haskovo_bytes,
                                                                      monkeypatch):
    monkeypatch.setattr(settings(), "IMPORT_MAX_SECONDS", 0)
    answer = api_import(client, haskovo_admin.token, haskovo_bytes, "haskovo.txt")
    assert answer.status_code == 413 and answer.json["code"] == "too_slow", answer.text[:300]
    assert nothing_written(haskovo_admin)


def test_the_limits_have_their_words_in_both_languages(client, haskovo_admin):
    answer = client.post("/api/v1/plans/import", content_type="multipart/form-data",
                         headers={"Authorization": f"Bearer {haskovo_admin.token}", "Accept-Language": "en"},
                         data={"file": (io.BytesIO(inflated_docx(20 * MB)), "big.docx")})
    assert answer.json["title"].startswith("The part 'word/document.xml' of the file expands to")
    from service.kernel.errors import CATALOG

    for code in ("part_too_large", "too_many_rows", "too_slow"):
        status, bg, en = CATALOG[code]
        assert status == 413 and bg != en and "{detail}" not in bg


# -- in the background ----------------------------------------------------------------------


def run_worker_task(job_id: int) -> str:
    """What the worker does with the task the request queued."""
    from worker.tasks import import_document

    # The task's body in this test's app: calling the task itself would enter the default Celery
    # app's Flask app, which another test may have replaced, with settings this test did not set.
    answer = import_document.run(job_id)
    db.session.expire_all()
    return answer


def test_a_large_import_runs_in_the_worker_and_the_api_polls_it(client, haskovo_admin, haskovo_bytes, monkeypatch):
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 1024)
    answer = api_import(client, haskovo_admin.token, haskovo_bytes, "haskovo.txt")
    assert answer.status_code == 202, answer.text[:300]
    job = answer.json
    assert job["status"] == "queued" and answer.headers["Location"].endswith(f"/api/v1/import-jobs/{job['id']}")
    assert nothing_written(haskovo_admin), "the request imported nothing itself"
    auth = {"Authorization": f"Bearer {haskovo_admin.token}"}
    assert client.get(f"/api/v1/import-jobs/{job['id']}", headers=auth).json["status"] == "queued"
    assert client.get(f"/api/v1/import-jobs/{job['id']}",
                      headers={"Authorization": f"Bearer {haskovo_admin.expert_token}"}).status_code == 404

    assert run_worker_task(job["id"]) == "done"
    polled = client.get(f"/api/v1/import-jobs/{job['id']}", headers=auth).json
    assert polled["status"] == "done" and polled["done"] == polled["total"] == 8
    assert polled["result"]["created"] == 8 and polled["problem"] is None
    assert db.session.get(Plan, polled["result"]["plan_id"]).goals[7].number == 8
    assert db.session.get(_jobs(), job["id"]).data is None, "the file is not kept once imported"
    assert run_worker_task(job["id"]) == "done", "a redelivered task does nothing"
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 8


def test_a_refused_background_import_says_why(client, haskovo_admin, haskovo_bytes, monkeypatch):
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 1024)
    monkeypatch.setattr(settings(), "IMPORT_MAX_ROWS", 3)
    job = api_import(client, haskovo_admin.token, haskovo_bytes, "haskovo.txt").json
    assert run_worker_task(job["id"]) == "failed"
    polled = client.get(f"/api/v1/import-jobs/{job['id']}",
                        headers={"Authorization": f"Bearer {haskovo_admin.token}"}).json
    assert polled["status"] == "failed" and polled["problem"]["code"] == "too_many_rows"
    assert "3" in polled["problem"]["detail"] and nothing_written(haskovo_admin)


def test_the_page_follows_a_background_import(client, haskovo_admin, haskovo_bytes, monkeypatch):
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 1024)
    sign_in(client, haskovo_admin.secretary, haskovo_admin.password)
    form = client.get("/plans/import")
    sent = client.post("/plans/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(form.text), "file": (io.BytesIO(haskovo_bytes), "haskovo.txt")})
    assert sent.status_code == 302 and "/plans/import/jobs/" in sent.headers["Location"]
    waiting = client.get(sent.headers["Location"])
    assert waiting.status_code == 200 and 'http-equiv="refresh"' in waiting.text and 'data-status="queued"' in waiting.text
    run_worker_task(int(sent.headers["Location"].rsplit("/", 1)[1]))
    preview = client.get(sent.headers["Location"])
    assert preview.status_code == 200 and preview.text.count("data-number=") == 8 and nothing_written(haskovo_admin)
    token = csrf_of(preview.text)
    upload = preview.text.split('name="token" value="', 1)[1].split('"', 1)[0]
    confirmed = client.post("/plans/import/confirm", data={"csrf_token": token, "token": upload})
    assert confirmed.status_code == 302 and "/plans/import/jobs/" in confirmed.headers["Location"]
    run_worker_task(int(confirmed.headers["Location"].rsplit("/", 1)[1]))
    done = client.get(confirmed.headers["Location"])
    plan = db.session.scalar(select(Plan).where(Plan.administration_id == haskovo_admin.admin.id))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/plans/{plan.id}") and len(plan.goals) == 8


def test_the_page_says_why_a_background_import_was_refused(client, haskovo_admin, haskovo_bytes, monkeypatch):
    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 1024)
    monkeypatch.setattr(settings(), "IMPORT_MAX_ROWS", 3)
    sign_in(client, haskovo_admin.secretary, haskovo_admin.password)
    form = client.get("/plans/import")
    sent = client.post("/plans/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(form.text), "file": (io.BytesIO(haskovo_bytes), "haskovo.txt")})
    run_worker_task(int(sent.headers["Location"].rsplit("/", 1)[1]))
    refused = client.get(sent.headers["Location"])
    assert refused.status_code == 413 and 'role="alert"' in refused.text and "haskovo.txt" in refused.text
    assert "Таблицата има 8 реда, а допустимото е до 3" in refused.text


# -- measured in a real web process ---------------------------------------------------------


def _worker_pid(master: int) -> int:
    def child():
        path = Path(f"/proc/{master}/task/{master}/children")
        found = path.read_text().split() if path.exists() else []
        return int(found[0]) if found else None

    return wait_until(child, 30, 0.2, "the gunicorn worker")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("xml", [95 * MB, 20 * MB])
def test_the_web_process_stays_small(app, backend, haskovo_admin, tmp_path, xml):
    """gunicorn with one worker serving the test's database; the file is posted over HTTP."""
    if backend != "sqlite":
        pytest.skip("measured once, on SQLite")
    db.session.commit()
    port = free_port()
    env = {**settings_env(settings()), "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "gunicorn.log").open("wb")
    web = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120",
         "service.wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_until(lambda: _answers(port), 60, 0.3, "gunicorn to answer")
        worker = _worker_pid(web.pid)
        before = _peak_rss_mb(worker)
        data = inflated_docx(xml)
        boundary = "goalflowboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.docx\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/plans/import", data=body, method="POST",
            headers={"Authorization": f"Bearer {haskovo_admin.token}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                status, answer = reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read())
        seconds = time.monotonic() - started
        peak = _peak_rss_mb(worker)
        print(f"\n{len(data) / 1e6:.1f} MB DOCX, {xml // MB} MB document.xml: {status} {answer.get('code')} "
              f"in {seconds:.2f} s; web worker peak RSS {peak:.0f} MB (idle {before:.0f} MB)")
        assert status == 413 and answer["code"] == "part_too_large"
        assert peak < before + 100, f"the web worker grew from {before:.0f} MB to {peak:.0f} MB"
        assert seconds < 10
    finally:
        web.terminate()
        web.wait(20)
        log.close()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def test_a_real_worker_runs_the_import(client, backend, haskovo_admin, haskovo_bytes, tmp_path, monkeypatch):
    """The task the request queues is picked up by `celery worker` from the broker and run to the end."""
    if backend != "sqlite":
        pytest.skip("run once, on SQLite and its broker")
    from tests.worker.processes import Worker

    monkeypatch.setattr(settings(), "IMPORT_BACKGROUND_BYTES", 1024)
    db.session.commit()
    worker = Worker(settings(), tmp_path, beat=False)
    try:
        worker.wait_ready()
        answer = api_import(client, haskovo_admin.token, haskovo_bytes, "haskovo.txt")
        assert answer.status_code == 202
        auth = {"Authorization": f"Bearer {haskovo_admin.token}"}

        def finished():
            polled = client.get(answer.headers["Location"], headers=auth).json
            return polled if polled["status"] in ("done", "failed") else None

        polled = wait_until(finished, 60, 0.5, "the worker to import the file")
        assert polled["status"] == "done" and polled["result"]["created"] == 8, (polled, worker.output()[-2000:])
        assert not nothing_written(haskovo_admin)
    finally:
        worker.stop()
