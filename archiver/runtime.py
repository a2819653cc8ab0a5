"""Per-process runtime objects of the worker: settings, SciCat clients, storage.

Built lazily, once per process (and again after a fork, so prefork children never share
an HTTP session with their parent). Tests and embedded workers call :func:`configure`
to run with other settings.
"""

from __future__ import annotations

import os
import threading

from archiver.scicat import SciCatClient, connect
from archiver.settings import Settings, load_settings
from archiver.storage import Storage, get_storage

_lock = threading.Lock()
_settings: Settings | None = None
_clients: dict[tuple[int, str], SciCatClient] = {}
_storage: dict[int, Storage] = {}


def configure(settings: Settings | None) -> None:
    """Use ``settings`` from now on (``None``: read the environment again)."""
    global _settings
    with _lock:
        _settings = settings
        for client in _clients.values():
            client.close()
        _clients.clear()
        _storage.clear()


def settings() -> Settings:
    """This process's settings: those given to :func:`configure`, else the environment's
    (read once)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def client(api: str = "") -> SciCatClient:
    """The SciCat client of this process for generation ``api`` (``""``: as configured)."""
    current = settings()
    key = (os.getpid(), api or current.scicat_api)
    with _lock:
        found = _clients.get(key)
        if found is None:
            chosen = current.replace(scicat_api=api) if api else current
            found = _clients[key] = connect(chosen)
        return found


def storage() -> Storage:
    """The storage backend of this process, built from the same settings as the clients."""
    current = settings()
    with _lock:
        found = _storage.get(os.getpid())
        if found is None:
            found = _storage[os.getpid()] = get_storage(current)
        return found
