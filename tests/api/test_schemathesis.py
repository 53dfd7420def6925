"""schemathesis against the served OpenAPI: no 5xx, no response outside its schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.api.conftest import ADMIN_TOKEN, Server


def test_openapi_fuzzing_finds_no_server_error_and_no_schema_violation(
        api_server: Server) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(schemathesis), "run", f"{api_server.url}/openapi.json",
         "-H", f"Authorization: Bearer {ADMIN_TOKEN}",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--max-examples", "15", "--generation-deterministic", "--request-timeout", "60"],
        capture_output=True, text=True, timeout=600)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "generated" in summary
