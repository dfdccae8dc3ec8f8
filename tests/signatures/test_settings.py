"""Production refuses to start with signature settings that cannot work."""

from __future__ import annotations

import pytest

from service.config import Settings
from tests.prod.test_configuration import SAFE


def test_a_required_signature_needs_a_trust_list():
    with pytest.raises(RuntimeError, match="SIGNATURE_TRUST_ROOTS"):
        Settings.from_env({**SAFE, "REPORT_SIGNATURE_REQUIRED": "true"}).check_safe()
    Settings.from_env({**SAFE, "REPORT_SIGNATURE_REQUIRED": "true", "SIGNATURE_TRUST_ROOTS": "/etc/goalflow/trust"}).check_safe()


def test_a_seal_needs_a_time_stamp_authority():
    seal = {**SAFE, "SEAL_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so", "SEAL_KEY_LABEL": "seal"}
    with pytest.raises(RuntimeError, match="TSA_URL"):
        Settings.from_env(seal).check_safe()
    Settings.from_env({**seal, "TSA_URL": "https://tsa.example.bg"}).check_safe()
