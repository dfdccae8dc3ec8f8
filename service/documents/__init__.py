"""The document layer: the official goals table read from and written to DOCX, XLSX, CSV,
PDF and extracted text. Pure functions over bytes and dataclasses; no database, no web."""

from .errors import ERROR_CODES, DocumentError, Text, in_language
from .export_csv import export_csv
from .export_docx import export_docx
from .export_pdf import export_pdf
from .export_xlsx import export_xlsx
from .importers import parse_csv, parse_document, parse_docx, parse_text, parse_xlsx
from .model import STATE_LABELS, STATES, Goal, Indicator, PlanDocument, state_label, status_to_state
from .quarter import QuarterSummary, QuarterSummaryRow, export_quarter_summary_xlsx
from .safety import DEFAULT_MAX_BYTES, DEFAULT_MAX_UNZIPPED_BYTES

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNZIPPED_BYTES",
    "ERROR_CODES",
    "STATES",
    "STATE_LABELS",
    "DocumentError",
    "Goal",
    "Indicator",
    "PlanDocument",
    "QuarterSummary",
    "QuarterSummaryRow",
    "Text",
    "export_csv",
    "export_docx",
    "export_pdf",
    "export_quarter_summary_xlsx",
    "export_xlsx",
    "in_language",
    "parse_csv",
    "parse_document",
    "parse_docx",
    "parse_text",
    "parse_xlsx",
    "state_label",
    "status_to_state",
]
