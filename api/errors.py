"""The API's own error answer for refused input, shaped like FastAPI's validation errors."""

from __future__ import annotations

from fastapi import HTTPException


def unprocessable(where: str, field: str, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, so clients parse one shape."""
    return HTTPException(422, [{"loc": [where, *field.split(".")], "msg": f"{field}: {message}",
                                "type": "value_error"}])
