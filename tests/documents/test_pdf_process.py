"""The PDF is laid out in a child process, so that a web or worker process does not keep the
hundreds of megabytes WeasyPrint takes for a large plan."""

from __future__ import annotations

import importlib
import os

from service.documents import PlanDocument, export_pdf

pdf_module = importlib.import_module("service.documents.export_pdf")  # the package re-exports its function


def pid_of_the_layout(html: str) -> bytes:
    """Stands in for the layout: says which process ran it, and that it got the document."""
    return f"{os.getpid()} {'<table>' in html}".encode()


def test_the_layout_runs_in_another_process(haskovo: PlanDocument, monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "_layout", pid_of_the_layout)
    pid, got_the_table = export_pdf(haskovo).decode().split()
    assert int(pid) != os.getpid()
    assert got_the_table == "True"


def test_a_failure_in_the_child_reaches_the_caller(haskovo: PlanDocument, monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "_layout", broken_layout)
    try:
        export_pdf(haskovo)
    except ValueError as exc:
        assert "no fonts" in str(exc)
    else:
        raise AssertionError("the child's error was swallowed")


def broken_layout(html: str) -> bytes:
    raise ValueError("no fonts")
