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
import hashlib
import json
import os
import shutil
import stat
import tarfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from archiver.errors import ConfigError, PermanentStorageError, TransientStorageError
from archiver.settings import Settings
from archiver.storage import sources, work
from archiver.storage.base import ArchivedBlock, RetrievedBlock, Storage
from archiver.storage.paths import allowed_destination, is_within, local_source, safe_name
from archiver.storage.restore import restore_tar
from archiver.storage.tarpack import Member, drop_cache, read_tar, remove_stale_parts, write_tar

#: Packing-format version written into every DataBlock (``version``).
VERSION = "scicat-archiver-tar/1"


def tar_name(index: int) -> str:
    """The file name of tar ``index`` of a dataset."""
    return f"block-{index:05d}.tar"


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


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
        self.alg = settings.checksum
        self.max_bytes = settings.tar_max_bytes
        self.max_files = settings.block_max_files

    # -- archive ---------------------------------------------------------------------------
    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        pid = str(dataset["pid"])
        scicat_folder = str(dataset.get("sourceFolder") or "")
        paths, problems = sources.listed_paths(origdatablocks, scicat_folder)
        members, missing = sources.scan(local_source(scicat_folder, self.path_map), paths)
        problems += missing
        if problems:
            raise work.UserStorageError(sources.describe_problems(problems))
        blocks = sources.plan_blocks(members, self.max_bytes, self.max_files)
        folder = os.path.join(self.archive_root, safe_name(pid))
        try:
            os.makedirs(folder, exist_ok=True)
            remove_stale_parts(folder)
        except OSError as exc:
            raise TransientStorageError(f"archive folder {folder}: {exc}") from exc
        total = sum(m.size for m in members)
        done = 0
        for index, block in enumerate(blocks):
            tar = os.path.join(folder, tar_name(index))
            body = self._existing(tar, block)
            packed_now = body is None
            if body is None:
                body = self._pack(pid, tar, block, done, total)
            done += int(body["size"])
            work.report("Archiving", pid, done, total)
            yield ArchivedBlock(index, body)
            if packed_now and index + 1 < len(blocks) and work.out_of_time():
                raise work.ContinueLater(f"{pid}: {index + 1} of {len(blocks)} tars written")

    def _existing(self, tar: str, block: list[Member]) -> dict[str, Any] | None:
        """The DataBlock of an already written and verified tar that matches ``block``."""
        try:
            with open(f"{tar}.json", encoding="utf-8") as source:
                manifest = json.load(source)
            st = os.stat(tar)
        except (OSError, ValueError):
            return None
        body = manifest.get("block") if isinstance(manifest, dict) else None
        if not isinstance(body, dict) or manifest.get("tar") != [st.st_size, st.st_mtime_ns]:
            return None
        listed = [(f.get("path"), f.get("size")) for f in body.get("dataFileList") or ()]
        if listed != [(m.path, m.size) for m in block] or body.get("chkAlg") != self.alg:
            return None
        return body

    def _pack(
        self, pid: str, tar: str, block: list[Member], done: int, total: int
    ) -> dict[str, Any]:
        for stale in (f"{tar}.json", tar):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        progress = [done]

        def packed(size: int) -> None:
            progress[0] += size
            work.report("Archiving", pid, progress[0], total)

        try:
            sums = write_tar(block, tar, self.alg, packed)
        except FileNotFoundError as exc:
            raise work.UserStorageError(f"1 file(s) cannot be archived: {exc}") from exc
        except PermissionError as exc:
            raise work.UserStorageError(f"1 file(s) cannot be archived: {exc}") from exc
        except OSError as exc:
            raise TransientStorageError(f"writing {tar}: {exc}") from exc
        self._verify(tar, block, sums)
        st = os.stat(tar)
        files = [
            {
                "path": m.path,
                "size": m.size,
                "time": iso_time(m.mtime),
                "chk": digest,
                "uid": str(m.uid),
                "gid": str(m.gid),
                "perm": _perm(m),
            }
            for m, digest in zip(block, sums, strict=True)
        ]
        body = {
            "archiveId": tar,
            "size": sum(m.size for m in block),
            "packedSize": st.st_size,
            "chkAlg": self.alg,
            "version": VERSION,
            "dataFileList": files,
        }
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
        job = safe_name(work.current().job_id or "no-job")
        if destination:
            base = allowed_destination(destination, self.allowed_roots)
            if base is None:
                raise work.UserStorageError(
                    f"destination {destination!r} is not under an allowed retrieval root"
                )
            target = os.path.join(base, safe_name(pid))
        else:
            target = os.path.join(self.retrieve_root, job, safe_name(pid))
        state = os.path.join(self.retrieve_root, ".archiver", job, safe_name(pid))
        blocks = sorted(datablocks, key=lambda b: str(b.get("archiveId")))
        total = sum(int(b.get("size") or 0) for b in blocks)
        done = 0
        restored: list[RetrievedBlock] = []
        for index, block in enumerate(blocks):
            archive_id = str(block.get("archiveId"))
            marker = os.path.join(state, hashlib.sha256(archive_id.encode()).hexdigest()[:24])
            fresh = not os.path.exists(marker)
            if fresh:
                self._restore(archive_id, target, block)
                os.makedirs(state, exist_ok=True)
                _atomic_write(marker, archive_id + "\n")
            done += int(block.get("size") or 0)
            work.report("Retrieving", pid, done, total)
            restored.append(RetrievedBlock(archive_id, int(block.get("size") or 0), target, True))
            if fresh and index + 1 < len(blocks) and work.out_of_time():
                raise work.ContinueLater(f"{pid}: {index + 1} of {len(blocks)} tars restored")
        return restored

    def forget_job(self, job_id: str) -> None:
        """Remove the job's retrieval markers (which tars of which dataset were restored)."""
        shutil.rmtree(os.path.join(self.retrieve_root, ".archiver", safe_name(job_id)), True)

    def _restore(self, archive_id: str, target: str, block: Mapping[str, Any]) -> None:
        tar = os.path.realpath(archive_id)
        if not is_within(tar, self.archive_root):
            raise PermanentStorageError(f"DataBlock {archive_id} is not in {self.archive_root}")
        try:
            problems = restore_tar(tar, target, block)
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
        if problems:
            raise PermanentStorageError(
                f"{archive_id}: {len(problems)} file(s) failed the check: "
                + "; ".join(problems[: sources.MAX_LISTED])
            )


def _perm(member: Member) -> str:
    """``ls -l`` style permissions, e.g. ``-rw-r--r--`` or ``lrwxrwxrwx``."""
    kind = stat.S_IFLNK if member.link is not None else stat.S_IFREG
    return stat.filemode(kind | (0o777 if member.link is not None else member.mode))
