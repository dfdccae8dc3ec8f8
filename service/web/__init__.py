"""The web pages: one blueprint (service/web/views.py) to which each module adds its pages.

Importing the package registers them all; the modules import the blueprint, never each other's
package, so that nothing imports back at import time.
"""

from service.web import (  # noqa: F401 - each module adds its pages to `bp`
    account,
    admin,
    amendments,
    documents,
    filters,
    goals,
    home,
    inbox,
    plans,
    progress,
    public,
    report_entries,
    signatures,
)
from service.web.views import bp

__all__ = ["bp"]
