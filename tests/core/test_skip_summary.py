"""The summary at the end of a run names the suites that were skipped and why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import skipped_suites

ROOT = Path(__file__).resolve().parents[2]


def skipped(nodeid: str, reason: str):
    return SimpleNamespace(nodeid=nodeid, longrepr=(nodeid.split("::")[0], 12, f"Skipped: {reason}"))


def test_skips_are_grouped_by_suite_and_reason():
    reports = [
        skipped("tests/web/test_browser.py::test_a[sqlite]", "chromium is not installed"),
        skipped("tests/web/test_accessibility.py::test_b", "chromium is not installed"),
        skipped("tests/prod/test_compose.py::test_c", "docker-compose is not installed"),
        skipped("tests/core/test_smoke.py::test_d[postgresql]", "PostgreSQL does not answer"),
    ]
    assert skipped_suites(reports) == {
        ("tests/web", "chromium is not installed"): 2,
        ("tests/prod", "docker-compose is not installed"): 1,
        ("tests/core", "PostgreSQL does not answer"): 1,
    }


def test_the_summary_is_printed_at_the_end(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary  # noqa: F401\n")
    (tmp_path / "test_x.py").write_text("import pytest\n\ndef test_y():\n    pytest.skip('poppler-utils is missing')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert "suites skipped" in result.stdout, result.stdout + result.stderr
    assert "test_x.py: 1 skipped: poppler-utils is missing" in result.stdout
