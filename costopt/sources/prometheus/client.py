"""A thin layer over prometheus-api-client: bounded concurrency, range splitting under the
server's 11,000-points-per-series limit, and errors that name the server and the query.

Works against any server with Prometheus's HTTP API (Thanos, Mimir, VictoriaMetrics). A query
the server refuses as too large (too many samples, or its query timeout) raises `QueryTooBig`,
so the caller can ask again in smaller parts; such an answer is not retried as it stands.
"""

from __future__ import annotations

import json
import math
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import numpy as np
import orjson
import pandas as pd
import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from costopt.base.gc_pause import gc_paused
from costopt.config import PrometheusSettings
from costopt.sources.prometheus.queries import cluster_selector
from costopt.sources.source_errors import (
    AccessDenied,
    BadSourceData,
    QueryTooBig,
    SourceError,
    SourceUnavailable,
)

MAX_POINTS_PER_SERIES = 11_000
T = TypeVar("T")
STATUS = re.compile(r"HTTP Status Code (\d+) \((.*)\)$", re.DOTALL)
# How Prometheus, VictoriaMetrics, Thanos and Mimir say a query was too large for their limits.
TOO_BIG = ("too many samples", "query timed out", "maxsamplesperquery", "maxsamplesperseries",
           "maxuniquetimeseries", "maxpointspertimeseries", "maxqueryduration",
           "max-series-per-query", "max-fetched-chunks", "exceeded the maximum")
UNAVAILABLE_RETRIES = 2


def _tls_reason(exc: BaseException) -> str:
    """The TLS library's own reason (e.g. `certificate verify failed: unable to get local
    issuer certificate`), found down the exception chain; never the request."""
    seen: BaseException | None = exc
    while seen is not None:
        for arg in seen.args:
            if isinstance(arg, ssl.SSLError):
                return str(arg.reason or arg.__class__.__name__).replace("_", " ").lower() \
                    + (f": {arg.verify_message}" if isinstance(arg, ssl.SSLCertVerificationError)
                       and arg.verify_message else "")
            if isinstance(arg, BaseException):
                found = _tls_reason(arg)
                if found != "TLS error":
                    return found
        seen = seen.__cause__ or seen.__context__
    return "TLS error"


def _as_datetime(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class PrometheusClient:
    def __init__(self, settings: PrometheusSettings, cluster: str) -> None:
        self.settings = settings
        self.cluster = cluster
        headers = {name: value.get_secret_value() for name, value in settings.headers.items()}
        if settings.auth_header is not None:
            headers["Authorization"] = settings.auth_header.get_secret_value()
        auth = None
        if settings.basic_auth is not None:
            auth = (settings.basic_auth.username,
                    settings.basic_auth.password.get_secret_value())
        if settings.ca_file is not None and not os.access(settings.ca_file, os.R_OK):
            raise SourceError(f"Prometheus at {settings.url} (cluster {cluster}): ca_file "
                              f"{settings.ca_file} cannot be read")
        session = requests.Session()
        self._session = session
        session.verify = settings.ca_file or settings.verify_tls
        # 503 is not retried here: Prometheus answers a query timeout with it, and asking the
        # same query twice more would take the timeout three times (`_call` tells them apart).
        retry = Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 504),
                      allowed_methods=("GET", "POST"))
        self.connection = PrometheusConnect(url=settings.url, headers=headers, auth=auth,
                                            session=session, retry=retry,
                                            timeout=settings.timeout_seconds)
        # Every HTTP request sent, as (path, params): benchmarks replay them as the floor.
        self.sent: list[tuple[str, dict[str, str]]] = []

    @property
    def selector(self) -> str:
        """The label matcher that picks this cluster's series out of a shared Prometheus."""
        return cluster_selector(self.settings.cluster_label,
                                self.settings.cluster_label_value or self.cluster)

    def _call(self, query: str, action: Callable[[], T]) -> T:
        for attempt in range(UNAVAILABLE_RETRIES + 1):
            try:
                return action()
            except PrometheusApiClientException as exc:
                status, error = _refusal(str(exc))
                if any(sign in error.lower() for sign in TOO_BIG):
                    raise QueryTooBig(f"Prometheus at {self.settings.url} (cluster "
                                      f"{self.cluster}) refused a query as too large: "
                                      f"{error}; query: {query}") from None
                if status in (401, 403):
                    said = error.replace("\\n", " ").strip()[:200]
                    raise AccessDenied(f"Prometheus at {self.settings.url} (cluster "
                                       f"{self.cluster}) refused costopt's credentials: "
                                       f"HTTP {status}: {said} (check basic_auth, auth_header "
                                       "and headers)") from None
                if status == 503 and attempt < UNAVAILABLE_RETRIES:
                    time.sleep(0.2 * 2**attempt)
                    continue
                raise SourceError(f"Prometheus at {self.settings.url} (cluster {self.cluster}) "
                                  f"refused a query: HTTP {status}: {error}; "
                                  f"query: {query}") from None
            except requests.exceptions.SSLError as exc:
                raise AccessDenied(f"Prometheus at {self.settings.url} (cluster "
                                   f"{self.cluster}): TLS verification failed "
                                   f"({_tls_reason(exc)}; is ca_file the CA that signed the "
                                   "server's certificate?)") from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                kind = (f"timed out after {self.settings.timeout_seconds:g} s (3 tries)"
                        if _timed_out(exc) else "is unreachable")
                raise SourceUnavailable(f"Prometheus at {self.settings.url} {kind} "
                                        f"(cluster {self.cluster})") from None
            except requests.RequestException as exc:
                raise SourceUnavailable(f"Prometheus at {self.settings.url} failed "
                                        f"(cluster {self.cluster}): {type(exc).__name__}"
                                        ) from None
        raise AssertionError("unreachable")

    def _get(self, path: str, params: dict[str, str]) -> Any:
        """One query's result, as prometheus-api-client's `custom_query` asks it (same session,
        retries, headers and auth; a refusal raised as its exception, which `_call` reads),
        but parsed by orjson, with the garbage collector paused."""
        connection = self.connection
        response = self._session.request(
            method="GET", url=f"{connection.url}{path}", params=params,
            headers=connection.headers, auth=connection.auth, verify=self._session.verify,
            cert=self._session.cert, timeout=self.settings.timeout_seconds)
        if response.status_code != 200:
            raise PrometheusApiClientException(
                f"HTTP Status Code {response.status_code} ({response.content!r})")
        try:
            # The answer's objects hold no cycles; the collections their allocation would
            # trigger cost more than the parse itself (gc_pause.py).
            with gc_paused():
                return orjson.loads(response.content)["data"]["result"]
        except orjson.JSONDecodeError:
            raise BadSourceData(f"Prometheus at {self.settings.url} (cluster {self.cluster}) "
                                f"answered {path} with invalid JSON for: "
                                f"{params.get('query', '')}") from None

    def metric_names(self, start: datetime, end: datetime,
                     match: str | None = None) -> set[str]:
        """Metric names with samples in [start, end], of the series `match` selects if given."""
        params = {"start": f"{_as_datetime(start).timestamp():.0f}",
                  "end": f"{_as_datetime(end).timestamp():.0f}"}
        if match is not None:
            params["match[]"] = match
        names = self._call("label __name__ values",
                           lambda: self.connection.all_metrics(params=params))
        return set(names)

    def instant(self, query: str, at: datetime) -> list[dict[str, Any]]:
        params = {"time": f"{_as_datetime(at).timestamp():.3f}"}
        self.sent.append(("/api/v1/query", {"query": query, **params}))
        result = self._call(query, partial(self._get, "/api/v1/query",
                                           {"query": query, **params}))
        return _checked(result, "value", query)

    def range(self, query: str, start: datetime, end: datetime,
              step_seconds: int) -> list[dict[str, Any]]:
        """A range query, split into chunks of at most 11,000 points per series."""
        start, end = _as_datetime(start), _as_datetime(end)
        points = math.floor((end - start).total_seconds() / step_seconds) + 1
        chunks = max(1, math.ceil(points / MAX_POINTS_PER_SERIES))
        merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        chunk_start = start
        for _ in range(chunks):
            chunk_end = min(end, chunk_start + timedelta(
                seconds=step_seconds * (MAX_POINTS_PER_SERIES - 1)))
            self.sent.append(("/api/v1/query_range", {
                "query": query, "start": f"{chunk_start.timestamp():.3f}",
                "end": f"{chunk_end.timestamp():.3f}", "step": str(step_seconds)}))
            result = self._call(query, partial(self._get, "/api/v1/query_range", {
                "query": query, "start": str(round(chunk_start.timestamp())),
                "end": str(round(chunk_end.timestamp())), "step": str(step_seconds)}))
            if chunks == 1:
                # One answer has no duplicate label sets: nothing to merge (a merge keyed
                # by sorted labels costs a collect about a second at 50,000 topics).
                return _checked(result, "values", query)
            for item in _checked(result, "values", query):
                key = tuple(sorted(item["metric"].items()))
                merged.setdefault(key, {"metric": item["metric"], "values": []})
                merged[key]["values"].extend(item["values"])
            chunk_start = chunk_end + timedelta(seconds=step_seconds)
            if chunk_start > end:
                break
        return list(merged.values())

    def run_all(self, jobs: Mapping[str, Callable[[], T]]) -> dict[str, T]:
        """Run named queries concurrently, at most `max_concurrency` at a time."""
        pool = ThreadPoolExecutor(max_workers=self.settings.max_concurrency,
                                  thread_name_prefix="promql")
        try:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            return {name: future.result() for name, future in futures.items()}
        finally:
            # On the first failure, queries not yet sent are dropped: a collect that cannot
            # succeed fails after one timeout, not after every query has timed out in turn.
            pool.shutdown(wait=True, cancel_futures=True)


def _refusal(message: str) -> tuple[int | None, str]:
    """(HTTP status, the server's error text) from prometheus-api-client's exception, which
    carries the status code and the raw body."""
    match = STATUS.match(message)
    if match is None:
        return None, message
    status, body = int(match[1]), match[2]
    text = body[2:-1] if body[:2] in ("b'", 'b"') else body
    try:
        error = json.loads(text.encode().decode("unicode_escape")).get("error", text)
    except (ValueError, AttributeError):
        error = text
    return status, str(error)[:2000]


def _timed_out(exc: requests.RequestException) -> bool:
    """requests reports a read timeout that outlived the retries as a ConnectionError
    wrapping urllib3's MaxRetryError; its reason tells the two apart."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ReadTimeoutError)


def _checked(result: Any, field: str, query: str) -> list[dict[str, Any]]:
    if not isinstance(result, list):
        raise BadSourceData(f"Prometheus returned {type(result).__name__}, not a vector or "
                            f"matrix, for: {query}")
    for item in result:
        if not isinstance(item, dict) or "metric" not in item or field not in item:
            raise BadSourceData(f"Prometheus result without 'metric'/'{field}' for: {query}")
    return result


def vector_to_series(result: list[dict[str, Any]], label: str, query: str) -> pd.Series:
    """An instant vector as a float Series indexed by one label's values."""
    keys, values = [], []
    for item in result:
        if label not in item["metric"]:
            raise BadSourceData(f"result without label {label!r} for: {query}")
        try:
            value = float(item["value"][1])
        except (TypeError, ValueError, IndexError):
            raise BadSourceData(f"non-numeric sample {item['value']!r} for: {query}") from None
        keys.append(item["metric"][label])
        values.append(value)
    return pd.Series(values, index=pd.Index(keys, name=label), dtype=float)


def matrix_to_frame(result: list[dict[str, Any]], label: str, query: str) -> pd.DataFrame:
    """A range result as (label, ts, value) rows, built in one go: at fleet scale a result
    holds tens of thousands of series, and a frame per series costs more than the parse."""
    labels: list[str] = []
    stamps: list[float] = []
    values: list[str] = []
    for item in result:
        name = item["metric"].get(label)
        if name is None:
            raise BadSourceData(f"result without label {label!r} for: {query}")
        points = item["values"]
        labels.extend([name] * len(points))
        for stamp, value in points:
            stamps.append(stamp)
            values.append(value)
    try:
        numbers = np.asarray(values, dtype=np.float64)
        times = np.asarray(stamps, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadSourceData(f"non-numeric samples for: {query}") from None
    return pd.DataFrame({label: labels, "ts_seconds": times, "value": numbers})
