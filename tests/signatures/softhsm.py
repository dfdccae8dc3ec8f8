"""A SoftHSM2 token in a temporary folder holding the administration's seal key (RSA, as seal keys
on HSMs mostly are), generated on the token (it never leaves it) and certified by the test's seal CA."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.signatures.pki import Authority, _name, der, issue

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
           "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
TOKEN_LABEL = "goalflow-seal"
KEY_LABEL = "seal"
PIN = "123456"


def module() -> str | None:
    if not shutil.which("softhsm2-util"):
        return None
    return next((path for path in MODULES if os.path.exists(path)), None)


def make_token(folder: Path, seal_ca: Authority) -> x509.Certificate:
    """Initialise the token (SOFTHSM2_CONF must point at `folder` before the module is loaded)."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
    from pkcs11.util.rsa import encode_rsa_public_key

    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--so-pin", "87654321", "--pin", PIN],
        check=True, capture_output=True,
    )
    token = pkcs11.lib(module()).get_token(token_label=TOKEN_LABEL)
    with token.open(user_pin=PIN, rw=True) as session:
        public, _ = session.generate_keypair(KeyType.RSA, 2048, store=True, label=KEY_LABEL, id=b"\x01")
        public_key = serialization.load_der_public_key(encode_rsa_public_key(public))
        certificate = issue(_name("Администрация Тест – печат"), public_key, seal_ca)
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.LABEL: KEY_LABEL, Attribute.ID: b"\x01",
            Attribute.VALUE: der(certificate), Attribute.SUBJECT: certificate.subject.public_bytes(),
        })
    return certificate
