"""Thin tasks with fixed names: they take ids and call services."""

from __future__ import annotations

from celery import shared_task
