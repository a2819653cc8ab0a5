"""Storage backends: where archived data goes and comes back from.

``get_storage(settings)`` returns the configured backend (alias table below). The pipeline
only sees the :class:`~archiver.storage.base.Storage` interface.
"""

from __future__ import annotations

from typing import cast

from archiver.errors import ConfigError
from archiver.settings import Settings
from archiver.storage.base import ArchivedBlock, RetrievedBlock, Storage

#: Setting value -> "module:Class" of the backend.
BACKENDS = {
    "mock": "archiver.storage.mock:MockStorage",
    "filesystem": "archiver.storage.filesystem:FilesystemStorage",
    "s3": "archiver.storage.s3:S3Storage",
    "routing": "archiver.storage.routing:RoutingStorage",
}


def get_storage(settings: Settings) -> Storage:
    """The storage backend named by ``settings.storage``."""
    import importlib

    target = BACKENDS.get(settings.storage)
    if target is None:
        raise ConfigError(f"ARCHIVER_STORAGE {settings.storage!r} is not a known backend")
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cast("Storage", cls(settings))


__all__ = ["ArchivedBlock", "RetrievedBlock", "Storage", "get_storage", "BACKENDS"]
