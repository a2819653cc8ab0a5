"""Fixtures for the SciCat client tests: an emulator per flavour and a client connected to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from archiver.scicat import SciCatClient, connect
from archiver.settings import Settings

FLAVOURS = ("loopback", "next-legacy", "next")
ADMIN = ("admin", "2jf70TPNZsS")


def settings_for(emu: object, api: str = "auto", **changes: object) -> Settings:
    base = Settings(
        scicat_url=emu.url,  # type: ignore[attr-defined]
        scicat_user=ADMIN[0],
        scicat_password=ADMIN[1],
        scicat_api=api,
        scicat_timeout=5.0,
    )
    return base.replace(**changes)


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def emu(emulator_factory: Callable[..., object], flavour: str) -> object:
    return emulator_factory(flavour=flavour)


@pytest.fixture
def make_client(flavour: str) -> Iterator[Callable[..., SciCatClient]]:
    """``make_client(emu, **settings)``: a client of the test's flavour; closed afterwards."""
    made: list[SciCatClient] = []

    def make(server: object, **changes: object) -> SciCatClient:
        api = str(changes.pop("api", flavour))
        client = connect(settings_for(server, api, **changes))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(emu: object, make_client: Callable[..., SciCatClient]) -> SciCatClient:
    return make_client(emu)


def paths(emu: object, method: str | None = None) -> list[str]:
    """Paths of the requests the emulator saw (optionally only one method)."""
    log = emu.request_log  # type: ignore[attr-defined]
    return [p for (m, p, _s) in log if method is None or m == method]


def logins(emu: object) -> int:
    return sum(1 for (m, p, _s) in emu.request_log if m == "POST" and p.endswith("login"))  # type: ignore[attr-defined]
