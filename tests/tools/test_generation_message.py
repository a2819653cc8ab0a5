"""The line every tool run logs about the SciCat generation reads as information.

It used to say "generation next (GET /api/v4/jobs answered 403)": a status code that looks
like an error on every run. Now it names the generation and why, with no status code.
"""

from __future__ import annotations

import logging

import pytest

from archiver.scicat.detect import detect_generation


@pytest.mark.parametrize(
    ("flavour", "generation"),
    [("next", "next"), ("next-legacy", "next-legacy"), ("loopback", "loopback")],
)
def test_the_detected_generation_is_logged_without_a_status_code(
    emulator_factory, caplog, flavour, generation
):
    emulator = emulator_factory(flavour=flavour)
    with caplog.at_level(logging.INFO, logger="archiver.scicat.detect"):
        assert detect_generation(emulator.url, 5.0) == generation
    [line] = [r.getMessage() for r in caplog.records if r.name == "archiver.scicat.detect"]
    assert f"using API generation {generation} (" in line
    assert "answered" not in line
    for code in ("401", "403", "404", "405"):
        assert code not in line.replace(emulator.url, "")
