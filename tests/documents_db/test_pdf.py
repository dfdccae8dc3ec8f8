"""The exported PDF looks right: rendered to PNG with pdftoppm, A4 landscape, the approval block on page one."""

from __future__ import annotations

import shutil
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.extensions import db
from tests.documents_db.conftest import bearer

PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    return width, height


def test_the_report_pdf_is_landscape_and_signed(backend, request, tmp_path):
    if backend == "postgresql":
        pytest.skip("rendering does not depend on the database; the data path is checked on both by the other exports")
    if not Path(PDFTOPPM).exists():
        from tests.conftest import service_missing

        service_missing("pdftoppm (poppler-utils)")
    from service.auth.service import issue_token

    client, world = request.getfixturevalue("client"), request.getfixturevalue("world")
    world.plan.report_approved_by_id = world.governor.id
    world.plan.report_approved_at = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)
    db.session.commit()
    token = issue_token(user=world.secretary, name="tests")[1]
    response = client.get(f"/api/v1/plans/{world.plan.id}/export?format=pdf", headers=bearer(token))
    assert (response.status_code, response.mimetype) == (200, "application/pdf")
    assert response.headers["Content-Disposition"] == 'attachment; filename="test-2023-report-bg.pdf"'
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)

    subprocess.run([PDFTOPPM, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1, "three goals fit on one page"
    width, height = png_size(pages[0])
    assert width > height * 1.3, "A4 landscape is about 1.41 times as wide as high"

    if pdftotext := shutil.which("pdftotext"):
        text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
        assert "УТВЪРЖДАВАМ" in text and world.governor.name in text and "31.01.2024" in text
        assert "Отчет за изпълнението на целите на Областна администрация Тест за 2023 г." in " ".join(text.split())
