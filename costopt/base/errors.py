"""One root for costopt's errors, with subclasses named for what happened, so a caller can
tell "not found" from "unreachable" from "invalid" without reading messages, and the API can
answer each with its status (404, 503, 422). Every message names what is wrong and never
carries a secret."""

from __future__ import annotations


class CostoptError(Exception):
    """Anything costopt refuses or cannot do, with a message for a person."""


class NotFound(CostoptError, LookupError):
    """Something asked for is not there: a cluster, a snapshot, a topic, a report."""


class Unreachable(CostoptError):
    """A server costopt depends on (the store, Prometheus, Kafka) cannot be reached."""


class InvalidInput(CostoptError, ValueError):
    """Input that cannot be used as given: a setting, a catalog, a pattern, a change, data
    offered to the store."""


class BadData(CostoptError):
    """A source or stored block answered, but not with what it should hold."""
