"""Errors a source raises: each names the cluster and the server, never a secret."""

from costopt.base.errors import BadData, CostoptError, Unreachable


class SourceError(CostoptError):
    """A source could not deliver; the message says which server and what went wrong."""


class SourceUnavailable(SourceError, Unreachable):
    """The server could not be reached (down, refused, timed out)."""


class BadSourceData(SourceError, BadData):
    """The server answered, but not with what the query promised (malformed results)."""


class QueryTooBig(SourceError):
    """The server refused a query as too large for its limits (too many samples, or its
    query timeout): the same question asked in smaller parts may succeed."""


class AccessDenied(SourceError):
    """The server refused costopt's credentials or TLS: a wrong password or API key, a
    certificate signed by a CA costopt does not trust, a missing client certificate or header.
    Asking again does not help until the configuration changes."""
