"""The error tree: every archiver exception class lives in ``archiver.errors``, declares
whose fault it is, and storage errors carry what they were doing and to what."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from archiver import errors

PACKAGE = Path(errors.__file__).parent
#: Private signals that never leave their module, and the emulator's own errors (it models
#: the backend): the only exception classes outside ``archiver/errors.py``.
OUTSIDE = {
    "intake/bridge.py": {"BridgeStopped"},
    "audit/readers.py": {"Missing", "Unreadable", "Cold"},
    "storage/tarpack.py": {"SourceChanged"},
    "storage/s3_upload.py": {"SourceChanged"},
    "emulator/protocol.py": {"ApiError"},
    "emulator/publisher.py": {"PublishError"},
}
BASES = ("Error", "Exception", "Stop", "Later", "Member", "Timeout", "Failed", "OSError")


def exception_classes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            names = [ast.unparse(b) for b in node.bases]
            if any(name.split(".")[-1].endswith(BASES) for name in names):
                found.add(node.name)
    return found


def test_every_exception_class_is_in_errors_py():
    strays = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where == "errors.py":
            continue
        extra = exception_classes(path) - OUTSIDE.get(where, set())
        if extra:
            strays[where] = sorted(extra)
    assert strays == {}


def test_the_docstring_draws_every_class():
    classes = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.ArchiverError)
    ]
    missing = [name for name in classes if not re.search(rf"\b{name}\b", errors.__doc__ or "")]
    assert classes and missing == []


def test_whose_fault_is_declared_on_the_class():
    user = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.ArchiverError)
        if value.kind == "user"
    }
    assert user == {"UserStorageError"}
    assert errors.PermanentStorageError("x").kind == "system"
    assert errors.PermanentSciCatError("op", "x", 400).kind == "system"


@pytest.mark.parametrize(
    "cls", [errors.TransientStorageError, errors.PermanentStorageError, errors.UserStorageError]
)
def test_storage_errors_keep_operation_and_path_through_pickling(cls):
    error = cls("tar.gz: disk full", operation="write tar", path="/archive/p/block-0.tar")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == "tar.gz: disk full"
    assert (copy.operation, copy.path) == ("write tar", "/archive/p/block-0.tar")


def test_s3_errors_say_operation_and_path():
    from botocore.exceptions import ClientError

    from archiver.storage.s3_client import storage_error

    answer = {"Error": {"Code": "SlowDown", "Message": "m"}, "ResponseMetadata": {}}
    found = storage_error(ClientError(answer, "PutObject"), "uploading s3://b/p/block-0.tar", "b")
    assert (found.operation, found.path) == ("uploading", "s3://b/p/block-0.tar")


def test_old_import_names_still_work():
    from archiver.storage import restore, work

    assert work.UserStorageError is errors.UserStorageError
    assert work.ContinueLater is errors.ContinueLater
    assert restore.UnsafeMember is errors.UnsafeMember
