"""Topic owners from Strimzi `KafkaTopic` resources, read from a directory of YAML.

Where topics are managed as Strimzi custom resources, the team is already written on each
resource, as a label or an annotation. Reading exported YAML rather than the Kubernetes API
keeps costopt free of a Kubernetes client and of cluster credentials: export them with

    kubectl get kafkatopics -A -o yaml > strimzi-topics/kafkatopics.yaml

Files may hold one resource, several (`---`), or a `kind: List` as kubectl writes it. The
topic's name is `spec.topicName` when set (Strimzi's rule), else `metadata.name`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_OWNER_KEYS = ("costopt.io/owner", "owner", "team")


class StrimziError(ValueError):
    """A KafkaTopic directory that cannot be read; the message names the file."""


def _resources(document: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(document, dict):
        return
    if document.get("kind") == "List" or ("items" in document and "kind" not in document):
        for item in document.get("items") or []:
            yield from _resources(item)
    elif document.get("kind") == "KafkaTopic":
        yield document


def topic_owner(resource: dict[str, Any], keys: Sequence[str]) -> tuple[str, str] | None:
    """(topic, owner) of one KafkaTopic, or None when it names no owner under `keys`
    (labels first, then annotations, in the order of `keys`)."""
    metadata = resource.get("metadata") or {}
    spec = resource.get("spec") or {}
    topic = spec.get("topicName") or metadata.get("name")
    if not topic:
        return None
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    for key in keys:
        for source in (labels, annotations):
            value = source.get(key)
            if value not in (None, ""):
                return str(topic), str(value)
    return None


def strimzi_owners(directory: str | Path,
                   keys: Sequence[str] = DEFAULT_OWNER_KEYS) -> dict[str, str]:
    """topic → owner from every `*.yaml`/`*.yml` file under `directory` (sorted, so a topic
    named twice takes the later file's owner, with a warning)."""
    root = Path(directory)
    if not root.is_dir():
        raise StrimziError(f"{root}: owners.strimzi_topics_dir is not a directory")
    owners: dict[str, str] = {}
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for path in files:
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as exc:
            raise StrimziError(f"{path}: not valid YAML: {exc}") from None
        except OSError as exc:
            raise StrimziError(f"{path}: cannot read: {exc.strerror}") from None
        for document in documents:
            for resource in _resources(document):
                found = topic_owner(resource, keys)
                if found is None:
                    continue
                topic, owner = found
                if topic in owners and owners[topic] != owner:
                    log.warning("%s: topic %s owned by %s here and by %s elsewhere; using %s",
                                path, topic, owner, owners[topic], owner)
                owners[topic] = owner
    return owners


def directory_digest(directory: str | Path) -> str:
    """What the directory holds, as a digest: an analysis computed from other owners is
    stale."""
    import hashlib

    digest = hashlib.sha256()
    root = Path(directory)
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
