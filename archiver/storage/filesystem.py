"""The ``filesystem`` storage: datasets packed into verified tar files under a folder.

Archive root layout (see ``docs/storage.md``)::

    <ARCHIVER_ARCHIVE_ROOT>/<pid, percent-encoded>/block-00000.tar         the data (POSIX pax tar)
                                                   block-00000.tar.sha256  `sha256sum -c` list
                                                   block-00000.tar.json    the DataBlock, written
                                                                           after verification

One tar is one DataBlock; its ``archiveId`` is the tar's path. Tar *n* of a dataset always
has the same name, so a repeated step finds what exists: a tar with its ``.json`` manifest
that matches the planned files and the tar on disk is taken as it is (it was verified when
written); any other tar is written again. After writing, the tar's cached pages are dropped
and it is read back from disk; every member's checksum must match.

Retrieval restores to ``<ARCHIVER_RETRIEVE_ROOT>/<job id>/<pid>/`` or, when the job names a
destination under an allowed root, ``<destination>/<pid>/``; see :mod:`archiver.storage.restore`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tarfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from archiver.errors import ConfigError, PermanentStorageError, TransientStorageError
from archiver.settings import Settings
from archiver.storage import sources, tarblocks, work
from archiver.storage.base import ArchivedBlock, Discarded, RetrievedBlock, Storage
from archiver.storage.folders import Target, discard_parts, retrieval_target
from archiver.storage.paths import is_within, safe_name
from archiver.storage.restore import check_restored, restore_blocks, restore_tar, state_folder
from archiver.storage.tarpack import Member, drop_cache, read_tar, remove_stale_parts, write_tar

#: Packing-format version written into every DataBlock (``version``).
VERSION = "scicat-archiver-tar/1"


def tar_name(index: int) -> str:
    """The file name of tar ``index`` of a dataset."""
    return f"block-{index:05d}.tar"


def _atomic_write(path: str, text: str) -> None:
    temp = f"{path}.{uuid.uuid4().hex[:12]}.tmp"  # a step run twice at once writes twice
    with open(temp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.rename(temp, path)


def _sums_line(digest: str, path: str) -> str:
    """One line of a ``sha256sum``-style list (names with ``\\`` or a newline escaped)."""
    if "\\" in path or "\n" in path:
        return "\\" + digest + "  " + path.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{digest}  {path}\n"


class FilesystemStorage(Storage):
    """Archive to tar files under a folder; retrieve into per-job folders."""

    name = "filesystem"

    def __init__(self, settings: Settings) -> None:
        if not settings.archive_root or not settings.retrieve_root:
            raise ConfigError(
                "ARCHIVER_STORAGE=filesystem needs ARCHIVER_ARCHIVE_ROOT and "
                "ARCHIVER_RETRIEVE_ROOT (absolute folders)"
            )
        self.archive_root = os.path.realpath(settings.archive_root)
        self.retrieve_root = os.path.realpath(settings.retrieve_root)
        self.allowed_roots = (self.retrieve_root, *settings.retrieve_allowed_roots)
        self.path_map = settings.source_path_map
        self.roots = sources.source_roots(settings)
        self.alg = settings.checksum
        self.max_bytes = settings.tar_max_bytes
        self.max_files = settings.block_max_files

    # -- archive ---------------------------------------------------------------------------
    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        pid = str(dataset["pid"])
        members = sources.dataset_members(dataset, origdatablocks, self.path_map, self.roots)
        blocks = sources.plan_blocks(members, self.max_bytes, self.max_files)
        folder = os.path.join(self.archive_root, safe_name(pid))
        try:
            os.makedirs(folder, exist_ok=True)
            remove_stale_parts(folder)
        except OSError as exc:
            raise TransientStorageError(f"archive folder {folder}: {exc}") from exc
        yield from tarblocks.archive_blocks(
            pid,
            blocks,
            lambda index, block: self._existing(os.path.join(folder, tar_name(index)), block),
            lambda index, block, done, total: self._pack(
                pid, os.path.join(folder, tar_name(index)), block, done, total
            ),
            "written",
        )

    def _existing(self, tar: str, block: list[Member]) -> dict[str, Any] | None:
        """The DataBlock of an already written and verified tar that matches ``block``."""
        try:
            with open(f"{tar}.json", encoding="utf-8") as source:
                manifest = json.load(source)
            st = os.stat(tar)
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or manifest.get("tar") != [st.st_size, st.st_mtime_ns]:
            return None
        body = manifest.get("block")
        return body if tarblocks.matches_plan(body, block, self.alg) else None

    def _pack(
        self, pid: str, tar: str, block: list[Member], done: int, total: int
    ) -> dict[str, Any]:
        for stale in (f"{tar}.json", tar):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        try:
            sums = write_tar(block, tar, self.alg, tarblocks.packing_progress(pid, done, total))
        except FileNotFoundError as exc:
            raise work.UserStorageError(f"1 file(s) cannot be archived: {exc}") from exc
        except PermissionError as exc:
            raise work.UserStorageError(f"1 file(s) cannot be archived: {exc}") from exc
        except OSError as exc:
            raise TransientStorageError(f"writing {tar}: {exc}") from exc
        self._verify(tar, block, sums)
        st = os.stat(tar)
        body = tarblocks.datablock(tar, block, sums, st.st_size, self.alg, VERSION)
        pairs = zip(block, sums, strict=True)
        lines = (_sums_line(d, m.path) for m, d in pairs if m.link is None)  # links: see .json
        _atomic_write(f"{tar}.{self.alg}", "".join(lines))
        manifest = {"format": VERSION, "tar": [st.st_size, st.st_mtime_ns], "block": body}
        _atomic_write(f"{tar}.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        return body

    def _verify(self, tar: str, block: list[Member], sums: list[str]) -> None:
        """Read the tar back (from disk, not the page cache) and compare every member."""
        pairs = zip(block, sums, strict=True)
        expected = [(m.path, m.size if m.link is None else 0, d) for m, d in pairs]
        try:
            drop_cache(tar)
            found = [(i.name, i.size, digest) for i, digest in read_tar(tar, self.alg)]
        except Exception as exc:  # noqa: BLE001 - any failure to read back is a failed check
            found = [("<unreadable>", 0, str(exc))]
        if found != expected:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tar)
            raise TransientStorageError(f"{tar}: read-back verification failed; will rewrite")

    # -- retrieve --------------------------------------------------------------------------
    def retrieve(
        self,
        dataset: Mapping[str, Any],
        datablocks: Iterable[Mapping[str, Any]],
        destination: str | None,
    ) -> list[RetrievedBlock]:
        pid = str(dataset["pid"])
        job_id = work.current().job_id
        target = retrieval_target(pid, job_id, destination, self.retrieve_root, self.allowed_roots)
        state = state_folder(self.retrieve_root, job_id, pid)
        blocks = sorted(datablocks, key=lambda b: str(b.get("archiveId")))
        return restore_blocks(pid, blocks, target, state, self._restore)

    def discard_parts(self, pid: str, job_id: str, destination: str | None) -> Discarded:
        return discard_parts(pid, job_id, destination, self.retrieve_root, self.allowed_roots)

    def forget_job(self, job_id: str) -> None:
        """Remove the job's retrieval markers (which tars of which dataset were restored)."""
        tarblocks.forget_retrievals(self.retrieve_root, job_id)

    def _restore(self, archive_id: str, target: Target, block: Mapping[str, Any]) -> list[str]:
        tar = os.path.realpath(archive_id)
        if not is_within(tar, self.archive_root):
            raise PermanentStorageError(f"DataBlock {archive_id} is not in {self.archive_root}")
        try:
            restored = restore_tar(tar, target, block)
        except PermanentStorageError:
            raise
        except FileNotFoundError as exc:
            raise PermanentStorageError(f"{archive_id}: {exc.strerror}: {exc.filename}") from exc
        except (tarfile.TarError, EOFError, UnicodeError) as exc:
            raise PermanentStorageError(f"{archive_id} is damaged: {exc}") from exc
        except OSError as exc:
            if exc.errno == errno.EIO:
                raise PermanentStorageError(f"{archive_id} cannot be read: {exc}") from exc
            raise TransientStorageError(f"restoring {archive_id}: {exc}") from exc
        return check_restored(archive_id, restored)
