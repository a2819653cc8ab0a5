"""Progress reporting (throttled, into the job's statusMessage and Flower events) and the
filesystem settings (path map, allowed roots, checksum choice, backend alias)."""

from __future__ import annotations

import pytest

from archiver.errors import ConfigError, TransientSciCatError
from archiver.settings import load_settings
from archiver.storage import get_storage
from archiver.storage.paths import allowed_destination, local_source, safe_name
from archiver.storage.progress import JobProgress, human


class FakeClient:
    generation = "next"

    def __init__(self, fail: bool = False) -> None:
        self.updates: list[tuple[str, str, str]] = []
        self.fail = fail

    def update_job(self, job_id, status, message, result=None):
        if self.fail:
            raise TransientSciCatError("update job", "down")
        self.updates.append((job_id, status, message))


def test_progress_goes_to_the_job_message_and_the_event_at_most_every_interval():
    now = [0.0]
    client, events = FakeClient(), []
    reporter = JobProgress(client, "j1", events.append, interval=10, clock=lambda: now[0])
    reporter("Archiving", "PID/1", 1_200_000_000, 2_000_000_000)
    now[0] = 5
    reporter("Archiving", "PID/1", 1_500_000_000, 2_000_000_000)  # throttled
    now[0] = 6
    reporter("Archiving", "PID/1", 2_000_000_000, 2_000_000_000)  # complete: always shown
    assert client.updates == [
        ("j1", "inProgress", "Archiving PID/1: 1.2 GB of 2.0 GB (60%)"),
        ("j1", "inProgress", "Archiving PID/1: 2.0 GB of 2.0 GB (100%)"),
    ]
    assert events[0] == {
        "dataset": "PID/1",
        "done": 1_200_000_000,
        "total": 2_000_000_000,
        "result": "Archiving PID/1: 1.2 GB of 2.0 GB (60%)",
    }


def test_a_failing_progress_update_does_not_fail_the_step_and_v3_jobs_get_none():
    JobProgress(FakeClient(fail=True), "j", lambda meta: None)("Retrieving", "p", 1, 2)
    legacy = FakeClient()
    legacy.generation = "loopback"
    JobProgress(legacy, "j", lambda meta: None)("Retrieving", "p", 1, 2)
    assert legacy.updates == []


def test_sizes_read_like_people_write_them():
    assert [human(n) for n in (5, 1000, 999_999, 2_500_000_000)] == [
        "5 B",
        "1.0 kB",
        "1.0 MB",
        "2.5 GB",
    ]


def test_filesystem_settings_come_from_the_environment():
    settings = load_settings(
        {
            "ARCHIVER_STORAGE": "filesystem",
            "ARCHIVER_ARCHIVE_ROOT": "/archive",
            "ARCHIVER_RETRIEVE_ROOT": "/retrieve",
            "ARCHIVER_SOURCE_PATH_MAP": "/data=/mnt/data; /other/=/x",
            "ARCHIVER_RETRIEVE_ALLOWED_ROOTS": "/scratch;/home",
            "ARCHIVER_CHECKSUM": "BLAKE2B",
        }
    )
    assert settings.source_path_map == (("/data", "/mnt/data"), ("/other", "/x"))
    assert settings.retrieve_allowed_roots == ("/scratch", "/home")
    assert settings.checksum == "blake2b"
    assert get_storage(settings).name == "filesystem"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ARCHIVER_SOURCE_PATH_MAP", "data=/mnt"),
        ("ARCHIVER_RETRIEVE_ALLOWED_ROOTS", "relative"),
        ("ARCHIVER_CHECKSUM", "crc32"),
        ("ARCHIVER_ARCHIVE_ROOT", "archive"),
        ("ARCHIVER_STORAGE", "tape"),
    ],
)
def test_malformed_filesystem_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_source_paths_map_by_the_longest_prefix_on_folder_boundaries():
    table = (("/data", "/mnt/data"), ("/data/beamline", "/fast"))
    assert local_source("/data/x/y", table) == "/mnt/data/x/y"
    assert local_source("/data/beamline/run1", table) == "/fast/run1"
    assert local_source("/database/z", table) == "/database/z"
    assert local_source("/data", table) == "/mnt/data"


def test_folder_names_of_pids_are_distinct_and_safe():
    names = [safe_name(p) for p in ("a/b", "a%2Fb", "..", ".", "x" * 400, "x" * 401)]
    assert len(set(names)) == len(names)
    assert all("/" not in n and n not in (".", "..") and len(n) <= 180 for n in names)


def test_a_destination_is_allowed_only_under_an_allowed_root(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    assert allowed_destination(str(root / "sub"), [str(root)]) == str(root / "sub")
    assert allowed_destination(str(root / "sub/../.."), [str(root)]) is None
    assert allowed_destination(str(tmp_path / "rootless"), [str(root)]) is None
    assert allowed_destination("relative/path", [str(root)]) is None
