"""The facts a step hands to the next: small, and without what no later step uses."""

from __future__ import annotations

from archiver.steps import facts
from archiver.steps.outcome import DatasetOutcome


def test_documents_travel_without_attachments_and_outcomes_round_trip():
    doc = {"pid": "p", "sourceFolder": "/d", "attachments": [{"thumbnail": "x" * 10_000}]}
    made = facts.make(
        ["p"], {"q": DatasetOutcome("q", "user", "datasetBusy", "by job j")}, {"p": doc}
    )
    assert made["docs"] == {"p": {"pid": "p", "sourceFolder": "/d"}}
    assert facts.docs_of(made, ["p"]) == made["docs"]
    assert facts.outcomes_of(made)["q"] == DatasetOutcome("q", "user", "datasetBusy", "by job j")
    assert facts.settled(made, ["q"]) is not None and facts.settled(made, ["p", "q"]) is None


def test_documents_larger_than_the_limit_are_left_for_the_next_step_to_read():
    big = {"pid": "p", "origdatablocks": [{"dataFileList": ["f" * 100] * 5_000}]}
    made = facts.make(["p"], {}, {"p": big})
    assert "docs" not in made and facts.work_of(made) == ["p"]
    assert facts.docs_of(made, ["p"]) is None
    assert facts.work_of(None) is None and facts.settled(None, []) is None
