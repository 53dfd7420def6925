"""An OAUTHBEARER token provider for the test cluster, named in costopt's config as
`tests.zones.tokens:unsecured_token` the way a deployment names its own (e.g. one wrapping
`aws-msk-iam-sasl-signer-python` for MSK IAM).

The broker's default OAUTHBEARER validator accepts unsigned JWS tokens (`alg: none`): a
test-only setting, which is why this provider can make its own tokens.
"""

from __future__ import annotations

import base64
import json
import time

LIFETIME_SECONDS = 3600
calls: list[str] = []  # the configs it was called with: the test sees the hook was used


def _part(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def unsecured_token(oauthbearer_config: str) -> tuple[str, float]:
    """(token, expiry in Unix seconds) for `principal=<name>` in `oauthbearer_config`."""
    calls.append(oauthbearer_config)
    settings = dict(item.split("=", 1) for item in oauthbearer_config.split() if "=" in item)
    now = int(time.time())
    expiry = now + LIFETIME_SECONDS
    claims = {"sub": settings.get("principal", "costopt"), "iat": now, "exp": expiry}
    return f"{_part({'alg': 'none'})}.{_part(claims)}.", float(expiry)
