"""Pure conversions of v3 / v4 job documents into Job."""

from __future__ import annotations

from archiver.scicat import DatasetRef, Job
from archiver.scicat.convert import (
    dataset_list,
    dataset_refs,
    flatten_files,
    job_from_any,
    job_from_v3,
    job_from_v4,
    oldest_first,
    status_message,
)

V4 = {
    "_id": "j-1",
    "id": "j-1",
    "type": "archive",
    "statusCode": "jobSubmitted",
    "statusMessage": "Job submitted.",
    "jobParams": {"username": "alice", "datasetList": [{"pid": "P/1", "files": ["a"]}]},
    "jobResultObject": {},
    "contactEmail": "alice@example.org",
}
V3 = {
    "id": "j-2",
    "type": "retrieve",
    "jobStatusMessage": "jobSubmitted",
    "datasetList": [{"pid": "P/2", "files": []}],
    "jobParams": {"destinationPath": "/tmp"},
    "emailJobInitiator": "bob@example.org",
}


def test_a_v4_job_takes_status_message_and_datasets_from_job_params():
    job = job_from_v4(V4)
    assert job == Job(
        id="j-1",
        type="archive",
        status="jobSubmitted",
        message="Job submitted.",
        datasets=(DatasetRef("P/1", ("a",)),),
        params=V4["jobParams"],
        result={},
    )
    assert job.pids == ["P/1"] and not job.finished


def test_a_v3_job_uses_job_status_message_as_status_and_message():
    job = job_from_v3(V3)
    assert (job.id, job.type, job.status, job.message) == (
        "j-2",
        "retrieve",
        "jobSubmitted",
        "jobSubmitted",
    )
    assert job.datasets == (DatasetRef("P/2"),)
    assert job.params == {"destinationPath": "/tmp"}


def test_job_from_any_recognises_both_shapes():
    assert job_from_any(V4).message == "Job submitted."
    assert job_from_any(V3).status == "jobSubmitted"


def test_a_job_with_only_an_underscore_id_keeps_it():
    assert job_from_v4({"_id": "x", "statusCode": "inProgress"}).id == "x"


def test_nested_file_lists_from_old_tools_are_flattened():
    assert flatten_files(["a", ["b", ["c"]], {"path": "d"}, 5]) == ("a", "b", "c", "d")
    assert flatten_files(None) == () and flatten_files("x") == ("x",)


def test_dataset_entries_without_pid_are_dropped_and_bare_pids_accepted():
    refs = dataset_refs([{"files": ["a"]}, "P/3", {"pid": "P/4", "files": [["f"]]}])
    assert refs == (DatasetRef("P/3"), DatasetRef("P/4", ("f",)))
    assert dataset_refs(None) == ()


def test_dataset_list_is_the_wire_form():
    assert dataset_list([DatasetRef("P/1", ("a",)), DatasetRef("P/2")]) == [
        {"pid": "P/1", "files": ["a"]},
        {"pid": "P/2", "files": []},
    ]


def test_an_empty_status_message_is_replaced_by_the_status_word():
    assert status_message("inProgress", "  ") == "inProgress"
    assert status_message("inProgress", "Archiving") == "Archiving"


def test_oldest_first_sorts_by_creation_time_of_either_generation():
    docs = [
        {"id": "b", "statusCode": "s", "createdAt": "2024-02-01T00:00:00Z"},
        {"id": "a", "jobStatusMessage": "s", "creationTime": "2024-01-01T00:00:00Z"},
    ]
    jobs = [job_from_any(d) for d in docs]
    assert [j.id for j in oldest_first(jobs, docs)] == ["a", "b"]
