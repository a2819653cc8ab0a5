"""Automatic detection of the backend generation."""

from __future__ import annotations

import logging

import pytest

from archiver.errors import TransientSciCatError
from archiver.scicat import connect
from archiver.scicat.detect import detect_generation

from .conftest import settings_for


def test_auto_detection_picks_the_generation_of_each_flavour(emu, flavour, caplog):
    caplog.set_level(logging.INFO, logger="archiver.scicat.detect")
    assert detect_generation(emu.url, 5.0) == flavour
    lines = [r for r in caplog.records if r.name == "archiver.scicat.detect"]
    assert len(lines) == 1 and flavour in lines[0].getMessage()


def test_auto_detection_sends_no_credentials(emu):
    detect_generation(emu.url, 5.0)
    assert all(status >= 400 or "login" not in path for (_m, path, status) in emu.request_log)


def test_connect_with_auto_returns_a_working_client_of_that_generation(emu, flavour):
    with connect(settings_for(emu, "auto")) as client:
        assert client.generation == flavour
        pid = emu.add_dataset()
        assert client.get_dataset(pid)["pid"] == pid


@pytest.mark.parametrize("flavour", ["next"])
def test_detection_of_an_unreachable_server_is_transient(flavour):
    with pytest.raises(TransientSciCatError):
        detect_generation("http://127.0.0.1:9", 1.0)
