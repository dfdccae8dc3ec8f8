"""Qualified electronic signatures on the report and the administration's seal (docs/signatures.md)."""
