"""The security settings refuse what could not work, at load time and naming the field, rather
than at 3 a.m. as a connection error."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from costopt.config import KafkaSecurity, PrometheusSettings


@pytest.mark.parametrize(("fields", "words"), [
    ({"protocol": "SASL_SSL"}, "sasl_mechanism is required"),
    ({"protocol": "SSL", "sasl_mechanism": "PLAIN"}, "uses no SASL"),
    ({"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u"},
     "needs sasl_username and sasl_password"),
    ({"protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER"},
     "needs oauthbearer_token_provider"),
    ({"protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER",
      "oauthbearer_token_provider": "not a callable name"}, "oauthbearer_token_provider"),
    ({"protocol": "SSL", "ssl_certificate_location": "/c.pem"}, "go together"),
])
def test_kafka_security_refuses_what_cannot_connect(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        KafkaSecurity.model_validate(fields)


@pytest.mark.parametrize(("fields", "words"), [
    ({"auth_header": "Bearer x", "basic_auth": {"username": "u", "password": "p"}},
     "give one of"),
    ({"basic_auth": {"username": "u", "password": "p"}, "headers": {"authorization": "x"}},
     "give one of"),
    ({"ca_file": "/ca.pem", "verify_tls": False}, "nothing would be checked"),
])
def test_prometheus_auth_settings_are_unambiguous(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        PrometheusSettings.model_validate({"url": "https://prometheus:9090", **fields})


def test_secrets_are_not_shown() -> None:
    settings = PrometheusSettings.model_validate({
        "url": "https://prometheus:9090", "basic_auth": {"username": "u", "password": "pw-1"},
        "headers": {"X-Scope-OrgID": "tenant-1"}})
    assert "pw-1" not in repr(settings) and "tenant-1" not in repr(settings)
    assert settings.headers["X-Scope-OrgID"].get_secret_value() == "tenant-1"
