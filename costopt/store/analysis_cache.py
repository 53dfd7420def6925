"""Where analyses are cached: per cluster, under a key that changes whenever anything the
analysis reads is written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select

from costopt.store import schema
from costopt.store.database import Database


class AnalysisCache(Database):
    """State keys of the stored snapshots, and the cached analysis of each cluster."""

    def state_key(self) -> tuple[int, int | None, str | None]:
        """Changes whenever a snapshot is written (ids only grow; a replaced window gets a new
        id and stored_at)."""
        snapshots = schema.snapshots
        with self.engine.connect() as connection:
            count, last_id, stored = connection.execute(select(
                func.count(), func.max(snapshots.c.id), func.max(snapshots.c.stored_at))).one()
        return int(count), last_id, str(stored) if stored is not None else None

    def cluster_state_keys(self) -> dict[str, tuple[int, int, str]]:
        """Per cluster, what changes whenever anything an analysis of it reads is written: its
        snapshots' count, newest id and newest write. A collect stores the cluster's series,
        samples and groups with a snapshot, and a replaced window gets a new id."""
        snapshots = schema.snapshots
        with self.engine.connect() as connection:
            rows = connection.execute(select(
                snapshots.c.cluster, func.count(), func.max(snapshots.c.id),
                func.max(snapshots.c.stored_at)).group_by(snapshots.c.cluster)).all()
        return {row[0]: (int(row[1]), int(row[2]), str(row[3])) for row in rows}

    def cluster_analyses(self, keys: Mapping[str, str]) -> dict[str, bytes]:
        """The cached analyses of the clusters in `keys` stored under their key."""
        table = schema.cluster_analysis_cache
        found: dict[str, bytes] = {}
        with self.engine.connect() as connection:
            for cluster, key in keys.items():
                payload = connection.execute(select(table.c.payload).where(
                    table.c.cluster == cluster, table.c.key == key)).scalar()
                if payload is not None:
                    found[cluster] = bytes(payload)
        return found

    def cached_clusters(self, keys: Mapping[str, str]) -> set[str]:
        """The clusters in `keys` whose analysis is cached under their key (none loaded)."""
        table = schema.cluster_analysis_cache
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.cluster, table.c.key).where(
                table.c.cluster.in_(list(keys)))).all()
        return {cluster for cluster, key in rows if keys.get(cluster) == key}

    def cache_cluster_analysis(self, cluster: str, key: str, payload: bytes,
                               keep: int = 2) -> None:
        """Keep `payload` as the cluster's analysis under `key`, and only its `keep` newest."""
        table = schema.cluster_analysis_cache
        with self.transaction() as connection:
            connection.execute(delete(table).where(table.c.cluster == cluster,
                                                   table.c.key == key))
            connection.execute(insert(table).values(cluster=cluster, key=key,
                                                    created_at=datetime.now(UTC),
                                                    payload=payload))
            stale = [row[0] for row in connection.execute(
                select(table.c.key).where(table.c.cluster == cluster)
                .order_by(table.c.created_at.desc()).offset(keep))]
            if stale:
                connection.execute(delete(table).where(table.c.cluster == cluster,
                                                       table.c.key.in_(stale)))
