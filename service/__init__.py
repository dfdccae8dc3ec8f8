"""goalflow: the annual goals of a regional administration, from adoption to the governor's signed report.

`flask --app service` finds the application factory here. It is imported when asked for, not
with the package: importing a part of goalflow (the pure document layer, say) loads only what
that part needs.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from service.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
