"""goalflow: the annual goals of a regional administration, from adoption to the governor's signed report."""

from service.app import create_app

__all__ = ["create_app"]
