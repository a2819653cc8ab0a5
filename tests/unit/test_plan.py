"""Planning: one chain per job type, immutable signatures, errback on every step."""

from __future__ import annotations

import pytest

from archiver import app
from archiver.plan import ERRBACK_TASK, STEPS, JobContext, context_for, plan_chain
from archiver.scicat.base import DatasetRef, Job


def job(job_type="archive", params=None):
    return Job(
        "job-1", job_type, "jobSubmitted", "", (DatasetRef("P/1"), DatasetRef("P/2")), params or {}
    )


def test_context_round_trips_through_json_types():
    ctx = context_for(job(), "next")
    assert JobContext.from_dict(ctx.to_dict()) == ctx
    assert ctx.to_dict()["pids"] == ["P/1", "P/2"]


def test_each_chain_gets_its_own_run_id():
    assert context_for(job(), "next").run != context_for(job(), "next").run


def test_retrieve_destination_comes_from_job_params():
    assert context_for(job("retrieve", {"destinationPath": "/data/x"}), "next").destination == (
        "/data/x"
    )
    assert context_for(job("retrieve", {"option": "URLs"}), "next").destination is None


@pytest.mark.parametrize("job_type", ["archive", "retrieve"])
def test_chain_lists_the_steps_in_order_with_immutable_signatures(job_type):
    ctx = context_for(job(job_type), "loopback")
    sig = plan_chain(app, ctx)
    tasks = sig.tasks
    assert [t.task for t in tasks] == list(STEPS[job_type])
    for t in tasks:
        assert t.immutable and t.args == (ctx.to_dict(),)
        assert t.options["task_id"].startswith("job-1:")
        assert ctx.run[:12] in t.options["task_id"]
    # applied to every step when the chain is sent
    assert [e["task"] for e in sig.options["link_error"]] == [ERRBACK_TASK]


def test_unknown_job_type_has_no_plan():
    with pytest.raises(ValueError, match="no plan"):
        plan_chain(app, context_for(job("public"), "next"))
