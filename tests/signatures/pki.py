"""A test public-key infrastructure made with `cryptography`: a qualified provider's CA and its
people's certificates, another (untrusted) CA, the administration's seal CA and a time-stamp
authority; and PAdES signatures made with pyHanko as a signing program would."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str, serial_number: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "BG"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    return x509.Name(attributes)


def issue(subject: x509.Name, public_key, issuer: Authority | None, *, ca: bool = False, eku=None,
          ocsp_url: str | None = None, crl_url: str | None = None, days: int = 365,
          starts: dt.datetime | None = None,
          self_key=None) -> x509.Certificate:
    now = starts or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    issuer_name, issuer_key = (issuer.certificate.subject, issuer.key) if issuer else (subject, self_key)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(public_key)
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=not ca, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess(
            [x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
        ), critical=False)
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None, crl_issuer=None,
        )]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der(certificate))


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def root(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(key, issue(_name(name), key.public_key(), None, ca=True, days=3650, self_key=key))

    def person(self, name: str, identity: str | None, **kwargs) -> Person:
        key = ec.generate_private_key(ec.SECP256R1())
        return Person(key, issue(_name(name, identity), key.public_key(), self, **kwargs), self)

    def crl(self, revoked: list[x509.Certificate] = ()) -> bytes:
        """A fresh CRL (DER) revoking `revoked`."""
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.certificate.subject)
            .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=1))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.CRLNumber(1), critical=False)
        )
        for certificate in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(certificate.serial_number)
                .revocation_date(now - dt.timedelta(minutes=1)).build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def write(self, folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.pem"
        path.write_bytes(pem(self.certificate))
        return path


@dataclass
class Person:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    issuer: Authority

    def signer(self):
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key = asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return signers.SimpleSigner(
            signing_cert=as_asn1(self.certificate), signing_key=key,
            cert_registry=SimpleCertificateStore.from_certs([as_asn1(self.issuer.certificate)]),
        )

    def sign_pdf(self, data: bytes, *, before_signing=None, field_name: str = "Signature1", tsa_url=None) -> bytes:
        """A PAdES signature appended as its own revision, as a signing program does.
        `before_signing(writer)` changes the document in that same revision; `tsa_url`: PAdES-T."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        if before_signing:
            before_signing(writer)
        meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES)
        timestamper = None
        if tsa_url:
            from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

            timestamper = RequestsHTTPTimeStamper(tsa_url)
        return signers.sign_pdf(writer, meta, signer=self.signer(), timestamper=timestamper).getvalue()


def add_text_to_first_page(writer) -> None:
    """A drawing on the first page, written in the signature's revision."""
    from pyhanko.pdf_utils import generic

    page = writer.root["/Pages"]["/Kids"][0].get_object()
    drawing = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 10 10 200 20 re f"))
    contents = page.raw_get("/Contents")
    existing = list(contents.get_object()) if isinstance(contents.get_object(), generic.ArrayObject) else [contents]
    page["/Contents"] = generic.ArrayObject([*existing, drawing])
    writer.update_container(page)


def timestamping_authority(ca: Authority):
    """A TSA certificate and key under `ca` (critical timeStamping extended key usage; RSA, as
    pyHanko's test time-stamper signs)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = issue(_name("Test TSA"), key.public_key(), ca, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    return key, certificate
