"""Command-line operations: `flask --app service ...` or the `goalflow` console script.

One AppGroup per area; the application factory registers them (service/app.py). The commands
keep their names: an area's commands sit at the top level (`flask demo`, `flask import-plan`),
except the goal's, which are a group of their own (`flask goal show ...`).
"""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from service.cli import documents, goals, org, records

AREAS: tuple[AppGroup, ...] = (org.cli, documents.cli, records.cli)
GROUPS: tuple[AppGroup, ...] = (goals.cli,)


def register(app: Flask) -> None:
    for area in AREAS:
        for command in area.commands.values():
            app.cli.add_command(command)
    for group in GROUPS:
        app.cli.add_command(group)
