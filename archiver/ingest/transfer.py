"""``transfer.yaml``: the metadata file of a dataset folder, read and checked with line numbers.

The key set is the one of the old ingestor mock's example file, plus a few optional keys the
backend accepts (``scientificMetadata``, ``proposalId``, ``instrumentId``, ``type``). The file
is checked completely before anything is sent to SciCat: every missing required key, wrongly
typed value and unknown key is reported at once, each with the line it is on (taken from the
YAML node tree, so the numbers match what an editor shows).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from archiver.errors import TransferError

#: The metadata file every dataset folder has.
TRANSFER_FILE = "transfer.yaml"
#: Attachment types turned into ``data:image/<type>`` thumbnails.
IMAGE_TYPES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}
#: Largest attachment accepted (thumbnails are sent inline, base64-encoded).
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """One attachment: an image in the dataset folder sent as a thumbnail."""

    caption: str
    path: Path
    type: str


@dataclass(frozen=True)
class Owner:
    name: str
    email: str | None = None
    orcid: str | None = None


@dataclass(frozen=True)
class TransferSpec:
    """The checked content of one ``transfer.yaml``."""

    folder: Path
    values: dict[str, Any]
    owners: tuple[Owner, ...]
    attachments: tuple[Attachment, ...] = field(default=())


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_str(v) for v in value)


def _is_nonempty_str_list(value: Any) -> bool:
    return _is_str_list(value) and len(value) > 0


#: One e-mail address, as SciCat's class-validator ``isEmail`` accepts it (roughly): no
#: spaces, no list separators, one ``@``, a dot in the domain.
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,.]+")


def _is_email(value: Any) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value.strip()) is not None


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, dict) for v in value)


_Check = tuple[Callable[[Any], bool], str]
_STR: _Check = (_is_str, "a non-empty string (quote numbers and dates)")
_BOOL: _Check = (lambda v: isinstance(v, bool), "true or false")
_STRS: _Check = (_is_str_list, "a list of strings")
_STRS1: _Check = (_is_nonempty_str_list, "a non-empty list of strings")
_RECORDS: _Check = (_is_records, "a non-empty list of mappings")
_RECORDS0: _Check = (
    lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "a list of mappings",
)
_MAPPING: _Check = (lambda v: isinstance(v, dict), "a mapping")
_EMAIL_CHECK: _Check = (_is_email, "one e-mail address (SciCat accepts no list here)")
_RAW: _Check = (lambda v: v == "raw", "raw (the only dataset type ingested here)")

#: key -> (required, check). The first 15 keys are the old example file's.
SCHEMA: dict[str, tuple[bool, _Check]] = {
    "accessGroups": (False, _STRS),
    "attachments": (False, _RECORDS0),
    "contactEmail": (True, _EMAIL_CHECK),
    "creationLocation": (True, _STR),
    "datasetName": (True, _STR),
    "description": (False, _STR),
    "instrumentGroup": (False, _STR),
    "isPublished": (False, _BOOL),
    "keywords": (False, _STRS),
    "license": (False, _STR),
    "ownerGroup": (True, _STR),
    "owners": (True, _RECORDS),
    "principalInvestigators": (True, _STRS1),
    "sampleId": (False, _STR),
    "validationStatus": (False, _STR),
    "instrumentId": (False, _STR),
    "proposalId": (False, _STR),
    "scientificMetadata": (False, _MAPPING),
    "type": (False, _RAW),
}
OWNER_KEYS: dict[str, tuple[bool, _Check]] = {
    "name": (True, _STR),
    "email": (False, _EMAIL_CHECK),
    "orcid": (False, _STR),
}
ATTACHMENT_KEYS: dict[str, tuple[bool, _Check]] = {
    "caption": (True, _STR),
    "path": (True, _STR),
    "type": (False, _STR),
}


class _Lines:
    """Line numbers (1-based) of keys and list items, from the composed YAML node tree."""

    def __init__(self, root: yaml.Node) -> None:
        self.root_line = root.start_mark.line + 1
        self.key: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        self._walk(root, "")

    def _walk(self, node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                name = f"{prefix}{key_node.value}"
                if name in self.key:
                    self.duplicates.append((name, key_node.start_mark.line + 1))
                self.key[name] = key_node.start_mark.line + 1
                self._walk(value_node, name + ".")
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                name = f"{prefix.rstrip('.')}[{index}]"
                self.key[name] = item.start_mark.line + 1
                self._walk(item, name + ".")

    def of(self, name: str) -> int:
        while name and name not in self.key:
            name = name.rpartition(".")[0]
        return self.key.get(name, self.root_line)


def _parse(path: Path) -> tuple[Any, _Lines]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TransferError(path, [f"no {TRANSFER_FILE} in {path.parent}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TransferError(path, [f"cannot read it: {exc}"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise TransferError(path, [f"{where}not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise TransferError(path, [f"not valid YAML: {exc}"]) from None
    if root is None or not isinstance(data, dict):
        raise TransferError(path, ["line 1: the file must be a mapping of keys to values"])
    return data, _Lines(root)


def _check_mapping(
    data: Mapping[str, Any],
    schema: Mapping[str, tuple[bool, _Check]],
    prefix: str,
    lines: _Lines,
    problems: list[str],
) -> None:
    where = f" in {prefix.rstrip('.')}" if prefix else ""
    for key in data:
        if key not in schema:
            name = f"{prefix}{key}"
            known = ", ".join(sorted(schema))
            problems.append(f"line {lines.of(name)}: unknown key {name!r} (known: {known})")
    for key, (required, (check, expected)) in schema.items():
        name = f"{prefix}{key}"
        if key not in data or data[key] is None:
            if required:
                line = lines.of(name) if key in data else lines.of(prefix.rstrip("."))
                problems.append(f"line {line}: required key {name!r} is missing{where}")
            continue
        if not check(data[key]):
            got = type(data[key]).__name__
            problems.append(f"line {lines.of(name)}: key {name!r} must be {expected}, got {got}")


def _attachment(
    folder: Path, entry: Mapping[str, Any], name: str, lines: _Lines, problems: list[str]
) -> Attachment | None:
    rel = Path(str(entry["path"]))
    target = (folder / rel).resolve()
    line = lines.of(f"{name}.path")
    if rel.is_absolute() or not target.is_relative_to(folder):
        problems.append(f"line {line}: {name}.path must be inside the dataset folder")
        return None
    if not target.is_file():
        problems.append(f"line {line}: {name}.path: no file {rel}")
        return None
    if target.stat().st_size > MAX_ATTACHMENT_BYTES:
        problems.append(f"line {line}: {name}.path: {rel} is larger than 5 MiB")
        return None
    kind = str(entry.get("type") or target.suffix.lstrip(".")).lower()
    if kind not in IMAGE_TYPES:
        problems.append(
            f"line {lines.of(name + '.type')}: {name}.type must be one of "
            f"{', '.join(IMAGE_TYPES)}, got {kind!r}"
        )
        return None
    return Attachment(str(entry["caption"]), target, IMAGE_TYPES[kind])


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    """The list under ``key``; anything else (already reported by the schema check) is none."""
    value = data.get(key)
    return value if isinstance(value, list) else []


def load_transfer(folder: str | Path) -> TransferSpec:
    """Read and check ``folder/transfer.yaml``; raise :class:`TransferError` listing every
    problem (with line numbers) when it is not usable."""
    root = Path(folder).resolve()
    path = root / TRANSFER_FILE
    data, lines = _parse(path)
    problems = [f"line {line}: key {name!r} is given twice" for name, line in lines.duplicates]
    _check_mapping(data, SCHEMA, "", lines, problems)
    owners: list[Owner] = []
    attachments: list[Attachment] = []
    for index, entry in enumerate(_items(data, "owners")):
        if isinstance(entry, dict):
            before = len(problems)
            _check_mapping(entry, OWNER_KEYS, f"owners[{index}].", lines, problems)
            if len(problems) == before:
                owners.append(Owner(entry["name"], entry.get("email"), entry.get("orcid")))
    for index, entry in enumerate(_items(data, "attachments")):
        if isinstance(entry, dict):
            name = f"attachments[{index}]"
            before = len(problems)
            _check_mapping(entry, ATTACHMENT_KEYS, name + ".", lines, problems)
            if len(problems) == before:
                found = _attachment(root, entry, name, lines, problems)
                if found is not None:
                    attachments.append(found)
    if problems:
        raise TransferError(path, problems)
    values = {k: v for k, v in data.items() if k not in ("owners", "attachments")}
    return TransferSpec(root, values, tuple(owners), tuple(attachments))
