"""Schemathesis against the live OpenAPI document: every operation, all of its checks.

Each operation is called with generated valid and invalid input by a person who may use it (the
administrator for the organisation, the chief secretary for plans and progress, the governor for the
rest), over the real application and database. Any server error, any answer that does not match
the document, any invalid input accepted or valid input refused fails the test.
"""

from __future__ import annotations

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))

# Who calls each group of operations (by the tag flask-smorest gives each blueprint).
CALLER = {
    "org": "sysadmin", "goals": "secretary", "progress": "secretary", "documents": "secretary", "auth": "expert_a",
    "approvals": "governor",
}


def _document_app():
    """The document is the same for every app; this one only serves it to the loader at collection time."""
    from service.app import create_app
    from service.config import Settings

    return create_app(Settings(ENV="test", VAR_DIR=tempfile.mkdtemp(prefix="goalflow-openapi-")))


# Every check runs. Valid-looking input may still break a rule the document states only in words,
# and those answers are part of the contract: 422 when a transition needs a reason or the achieved
# values of exactly this goal's indicators, when a substitution would already be over, or when an
# uploaded table is not UTF-8; 412 when If-Match names an older version; 415 when an uploaded file is
# not one of the table formats the import reads. Server errors and answers that differ from the
# document stay failures, whatever the status.
ACCEPTED = ["2xx", "401", "403", "404", "409", "412", "415", "422", "429"]
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
})
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", _document_app(), config=CONFIG)
CURRENT_TOKENS: dict = {}  # the running test's tokens: each operation gets a fresh world


@schema.auth(refresh_interval=None)
class WorldToken:
    """The bearer token of the person who uses this group of operations (so the checks can also drop it)."""

    def get(self, case, ctx):
        caller = CALLER.get(case.operation.tags[0] if case.operation.tags else "", "governor")
        return CURRENT_TOKENS.get(caller, "gf_not-yet")  # asked once at collection, before any world exists

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_matches_its_document(case, app, tokens):
    CURRENT_TOKENS.update(vars(tokens))
    case.call_and_validate(app=app)
