"""Fixtures of the signature tests: the test PKI, a local time-stamp authority, a SoftHSM2 token
with the seal key, and an app configured with them (on SQLite and PostgreSQL, as every app test)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import service_missing
from tests.signatures import softhsm, tsa
from tests.signatures.pki import Authority, timestamping_authority

GOVERNOR_IDENTITY = "PNOBG-7001010000"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    qtsp = Authority.root("Test Qualified CA")
    rogue = Authority.root("Rogue CA")
    seal_ca = Authority.root("Test Seal CA")
    tsa_key, tsa_certificate = timestamping_authority(seal_ca)
    return SimpleNamespace(
        qtsp=qtsp, rogue=rogue, seal_ca=seal_ca, tsa_key=tsa_key, tsa_certificate=tsa_certificate,
        trust_dir=qtsp.write(folder / "trust", "qtsp").parent,
        seal_roots=seal_ca.write(folder / "seal", "seal-ca"),
        governor=qtsp.person("Гергана Управителева", GOVERNOR_IDENTITY),
        other=qtsp.person("Иван Другиянов", "PNOBG-8002020000"),
        impostor=rogue.person("Гергана Управителева", GOVERNOR_IDENTITY),
    )


@pytest.fixture(scope="session")
def tsa_url(pki):
    server, url = tsa.serve(pki.tsa_key, pki.tsa_certificate, pki.seal_ca.certificate)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def token(pki, tmp_path_factory):
    module = softhsm.module()
    if module is None:
        service_missing("SoftHSM2 (softhsm2-util and libsofthsm2.so; deploy/system-packages.sh installs it)")
    certificate = softhsm.make_token(tmp_path_factory.mktemp("softhsm"), pki.seal_ca)
    return SimpleNamespace(module=module, certificate=certificate)


@pytest.fixture
def configured(ctx, world, pki, monkeypatch, tmp_path):
    """The world with the trust list and its own checkpoint folder, the governor's profile naming
    her certificate; revocation of the test certificates (which name no OCSP or CRL) is accepted
    as not checked."""
    from service.extensions import db

    settings = ctx.config["GOALFLOW"]
    monkeypatch.setattr(settings, "SIGNATURE_TRUST_ROOTS", str(pki.trust_dir))
    monkeypatch.setattr(settings, "SIGNATURE_ACCEPT_UNCHECKED_REVOCATION", True)
    monkeypatch.setattr(settings, "AUDIT_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    world.governor.signing_identity = GOVERNOR_IDENTITY
    db.session.commit()
    world.settings = settings
    return world


@pytest.fixture
def sealed(configured, token, tsa_url, pki, monkeypatch):
    """`configured`, with the administration's seal on the SoftHSM2 token and the local TSA."""
    for name, value in {
        "SEAL_PKCS11_MODULE": token.module, "SEAL_TOKEN_LABEL": softhsm.TOKEN_LABEL,
        "SEAL_KEY_LABEL": softhsm.KEY_LABEL, "SEAL_PIN": softhsm.PIN, "TSA_URL": tsa_url,
        "SEAL_TRUST_ROOTS": str(pki.seal_roots),
    }.items():
        monkeypatch.setattr(configured.settings, name, value)
    return configured


def submit_report(world):
    from service.approvals import service as approvals

    approvals.request_transition(actor=world.secretary, subject_type="plan", subject_id=world.plan.id,
                                 transition="submit_report")
    return world


@pytest.fixture
def signing(configured):
    """The report submitted and waiting for the governor's signature."""
    return submit_report(configured)


@pytest.fixture
def sealing(sealed):
    """`signing` with the seal."""
    return submit_report(sealed)
