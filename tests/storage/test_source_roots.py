"""Issue #16, case 10 (archive side): nothing is archived from outside the source roots.

``sourceFolder`` is mapped, resolved and checked against ``ARCHIVER_SOURCE_ROOTS`` (by
default the local folders of ``ARCHIVER_SOURCE_PATH_MAP``); a folder outside is a user error
of the dataset and no tar is written.
"""

from __future__ import annotations

import errno
import os

import pytest

from archiver.settings import load_settings
from archiver.storage import get_storage, sources, tarpack
from archiver.storage.work import UserStorageError

from .conftest import origdatablocks

OUTSIDE = ["/etc", "/data/../../../etc", "/scicat/data/../../../etc", "/scicat/data/../x"]


def attempt(settings, folder: str, files: list[str]) -> None:
    dataset = {"pid": "PID/escape", "sourceFolder": folder}
    list(get_storage(settings).archive(dataset, origdatablocks(files)))


@pytest.mark.parametrize("folder", OUTSIDE)
def test_a_source_folder_outside_the_roots_is_a_user_error_and_nothing_is_packed(
    fs_settings, roots, folder
):
    with pytest.raises(UserStorageError, match="is not under a source root") as caught:
        attempt(fs_settings, folder, ["passwd"])
    assert "ARCHIVER_SOURCE_ROOTS" in str(caught.value)
    assert os.listdir(roots["archive"]) == []


def test_a_symlink_inside_a_root_that_points_out_is_refused_after_resolving(fs_settings, roots):
    (roots["elsewhere"] / "secret").write_text("no")
    (roots["data"] / "ds").symlink_to(roots["elsewhere"])
    with pytest.raises(UserStorageError, match=r"locally .*elsewhere.* is not under a source"):
        attempt(fs_settings, "/scicat/data/ds", ["secret"])
    assert os.listdir(roots["archive"]) == []


def test_an_unmapped_folder_under_an_explicit_source_root_is_archived(fs_settings, roots):
    (roots["elsewhere"] / "ds").mkdir()
    (roots["elsewhere"] / "ds" / "f").write_text("data")
    settings = fs_settings.replace(source_roots=(str(roots["elsewhere"]),))
    attempt(settings, f"{roots['elsewhere']}/ds", ["f"])
    assert os.listdir(roots["archive"]) == ["PID%2Fescape"]
    with pytest.raises(UserStorageError, match="not under a source root"):  # the map's no more
        attempt(settings, "/scicat/data/ds", ["f"])


def test_without_roots_or_map_nothing_is_archived_and_the_message_says_what_to_set(
    fs_settings, roots
):
    settings = fs_settings.replace(source_path_map=())
    with pytest.raises(UserStorageError, match="no source roots are configured"):
        attempt(settings, str(roots["data"]), ["f"])


@pytest.mark.parametrize("folder", ["", "relative/path", "/scicat/data/a\x00b"])
def test_a_source_folder_that_is_not_an_absolute_path_is_refused(fs_settings, folder):
    with pytest.raises(UserStorageError, match="not an absolute path"):
        attempt(fs_settings, folder, ["f"])


def test_the_default_source_roots_are_the_local_folders_of_the_path_map():
    settings = load_settings({"ARCHIVER_SOURCE_PATH_MAP": "/data=/mnt/data;/b=/x"})
    assert sources.source_roots(settings) == ("/mnt/data", "/x")
    settings = load_settings(
        {"ARCHIVER_SOURCE_PATH_MAP": "/data=/mnt/data", "ARCHIVER_SOURCE_ROOTS": "/srv;/tmp/a"}
    )
    assert sources.source_roots(settings) == ("/srv", "/tmp/a")


def test_a_file_replaced_by_a_symlink_after_the_check_is_not_followed(roots):
    (roots["elsewhere"] / "secret").write_text("no")
    link = roots["data"] / "f"
    link.symlink_to(roots["elsewhere"] / "secret")
    with pytest.raises(OSError) as caught:
        tarpack.open_source(str(link))
    assert caught.value.errno == errno.ELOOP
