"""A certificate authority made for one test run, and the PEM files signed by it.

Kafka reads PEM key and trust stores directly (`ssl.keystore.type=PEM`, Kafka 2.7+) and
librdkafka and Prometheus read PEM too, so nothing here needs keytool or JKS. A second,
unrelated CA (`Pki.foreign_ca_path`) lets tests check that a server signed by a CA the client
does not trust is refused.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.stack.processes import LOOPBACK

_VALIDITY = dt.timedelta(days=2)


@dataclass(frozen=True)
class Pki:
    """PEM paths: the run's CA, a server certificate for 127.0.0.1/localhost, a client
    certificate (CN `costopt`, for mutual TLS), and a CA that signed neither."""

    ca_path: Path
    server_cert_path: Path
    server_key_path: Path
    server_keystore_path: Path  # key and chain in one file, as Kafka's PEM keystore wants
    client_cert_path: Path
    client_key_path: Path
    foreign_ca_path: Path
    client_name: str = "costopt"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "costopt test stack"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8, the one PEM key form Kafka's PEM keystore reads."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(_name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(common_name: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
          server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] if server
            else [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_pki(directory: Path) -> Pki:
    """A fresh CA and its certificates under `directory` (keys readable by the owner only)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _ca("costopt test CA")
    server, server_key = _leaf(LOOPBACK, ca, ca_key, server=True)
    client, client_key = _leaf("costopt", ca, ca_key, server=False)
    foreign, _ = _ca("a CA nobody trusts")
    pki = Pki(
        ca_path=directory / "ca.pem",
        server_cert_path=directory / "server.pem",
        server_key_path=directory / "server.key",
        server_keystore_path=directory / "server-keystore.pem",
        client_cert_path=directory / "client.pem",
        client_key_path=directory / "client.key",
        foreign_ca_path=directory / "foreign-ca.pem",
    )
    pki.ca_path.write_bytes(_pem(ca))
    pki.foreign_ca_path.write_bytes(_pem(foreign))
    pki.server_cert_path.write_bytes(_pem(server) + _pem(ca))
    pki.client_cert_path.write_bytes(_pem(client))
    for path, content in ((pki.server_key_path, _pkcs8(server_key)),
                          (pki.server_keystore_path, _pkcs8(server_key) + _pem(server) + _pem(ca)),
                          (pki.client_key_path, _pkcs8(client_key))):
        path.touch(mode=0o600)
        path.write_bytes(content)
    return pki
