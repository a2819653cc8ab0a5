"""Fixtures of the emulator tests: logged-in clients for each flavour."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .helpers import Client


@pytest.fixture
def client_factory(emulator_factory) -> Callable[..., Client]:
    """``client_factory(flavour="next", **emulator_kwargs)`` -> logged-in Client."""

    def make(flavour: str = "next", **kwargs) -> Client:
        emu = emulator_factory(flavour=flavour, **kwargs)
        return Client(emu, flavour)

    return make


@pytest.fixture
def nxt(client_factory) -> Client:
    return client_factory("next")


@pytest.fixture
def legacy(client_factory) -> Client:
    return client_factory("next-legacy")


@pytest.fixture
def lb(client_factory) -> Client:
    return client_factory("loopback")
