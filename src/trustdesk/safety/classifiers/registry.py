"""The deployment's classifiers from its settings: the shipped ones, plus one
`HttpClassifier` per entry of `model_servers`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustdesk.safety.classifiers.base import ClassifierRegistry, Modality, default_registry
from trustdesk.safety.classifiers.http import PIGEON, HttpClassifier

FIELDS = frozenset(
    {
        "name",
        "base_url",
        "model",
        "version",
        "positive_label",
        "modalities",
        "token",
        "timeout_s",
        "contract",
        "pin_version",
        "policy",
    }
)


def from_settings(entry: Mapping[str, Any]) -> HttpClassifier:
    """One `model_servers` entry as a classifier; ValueError naming what is wrong."""
    unknown = set(entry) - FIELDS
    if unknown:
        raise ValueError(f"model_servers: unknown field {sorted(unknown)[0]!r}; fields: {', '.join(sorted(FIELDS))}")
    for required in ("name", "base_url", "model"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            raise ValueError(f"model_servers: every entry needs {required!r}")
    if not str(entry["base_url"]).startswith(("http://", "https://")):
        raise ValueError(f"model_servers: {entry['name']}: base_url must be http:// or https://")
    token: Any = entry.get("token")
    secret = token.get_secret_value() if token is not None and hasattr(token, "get_secret_value") else token
    return HttpClassifier(
        name=entry["name"],
        base_url=entry["base_url"],
        model=entry["model"],
        version=str(entry.get("version") or "unreported"),
        positive_label=str(entry.get("positive_label") or "positive"),
        modalities=frozenset(Modality(m) for m in entry.get("modalities") or ["text"]),
        token=secret,
        timeout_s=float(entry.get("timeout_s") or 2.0),
        contract=str(entry.get("contract") or PIGEON),
        pin_version=bool(entry.get("pin_version", False)),
        policy=str(entry["policy"]) if entry.get("policy") else None,
    )


def configure(settings: Any, registry: ClassifierRegistry | None = None) -> ClassifierRegistry:
    """Add the configured model servers to `registry` (default: the process's), before the
    rules are loaded so that rules may name them."""
    target = registry if registry is not None else default_registry()
    for entry in getattr(settings, "model_servers", None) or []:
        target.add(from_settings(entry))
    return target
