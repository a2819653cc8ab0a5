"""The ``url`` job action: an HTTP call per job event, as backend-next's job configuration
makes it (``src/config/job-config/actions/urlaction``).

The backend renders ``url`` and each header value as a handlebars template of
``{job, env}``; here only ``{{ job.KEY }}`` and ``{{ env.NAME }}`` are understood, enough
for an archiver's address and credentials. ``{{ }}`` HTML-escapes (base64's ``=`` becomes
``&#x3D;``), so credentials need ``{{{ }}}``. The body is ``{{{jsonify job}}}`` (the stored
v4 job document) or ``{{{jsonify (job_v3 job)}}}`` (its v3 view, :func:`job_v3`), both
pretty-printed like ``jsonify`` does, sent with ``fetch``, whose answer the job request
waits for. A non-2xx answer fails the job request with that
status and ``Got response: <text>``; a call that does not connect fails it with 400
``Invalid job input ... unable to perform action 'url'``. The job is stored either way.
``fetch`` labels a string body ``text/plain;charset=UTF-8`` unless a header says otherwise.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.emulator.protocol import ApiError

_PLACEHOLDER = re.compile(r"\{\{(\{?)\s*(job|env)\.([A-Za-z0-9_]+)\s*\}?\}\}")
#: What handlebars' ``{{ }}`` escapes (``{{{ }}}`` does not): base64 padding ``=`` included.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;",
            "=": "&#x3D;"}  # fmt: skip
#: Bodies the action can send: ``{{{jsonify job}}}`` and ``{{{jsonify (job_v3 job)}}}``.
BODIES = ("v4", "v3")
EVENTS = ("create", "update")
#: What JavaScript's ``encodeURI`` leaves alone (besides letters and digits).
_URI_SAFE = ";,/?:@&=+$-_.!~*'()#%"


@dataclass(frozen=True)
class UrlAction:
    """One configured ``url`` action, on job ``create`` and/or ``update``."""

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = "v4"
    on: tuple[str, ...] = ("create",)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.body not in BODIES:
            raise ValueError(f"url action body must be one of {', '.join(BODIES)}")
        if set(self.on) - set(EVENTS) or not self.on:
            raise ValueError("url action 'on' may only contain create and update")

    def perform(self, doc: Mapping[str, Any]) -> None:
        """Send the call for job ``doc``; raise :class:`ApiError` as the backend answers."""
        url = urllib.parse.quote(render(self.url, doc), safe=_URI_SAFE)  # encodeURI
        payload = dict(doc) if self.body == "v4" else job_v3(doc)
        headers = {"content-type": "text/plain;charset=UTF-8"}
        headers.update({k.lower(): render(v, doc) for k, v in self.headers.items()})
        data = json.dumps(payload, indent=3).encode("utf-8")  # jsonify: JSON.stringify(x, null, 3)
        request = urllib.request.Request(url, data=data, method=self.method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            raise ApiError(exc.code, f"Got response: {text}") from None
        except (OSError, ValueError) as exc:
            raise ApiError(
                400,
                f"Invalid job input. Job '{doc.get('type')}' unable to perform action 'url' "
                f"due to TypeError: fetch failed ({exc})",
            ) from None


def job_v3(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What backend-next's ``job_v3`` template helper makes of a job: the v3 field names,
    ``jobParams`` kept whole (``datasetList`` too) plus ``username``, status word as
    ``jobStatusMessage``."""
    params = dict(doc.get("jobParams") or {})
    return {
        "id": doc["id"],
        "emailJobInitiator": doc.get("contactEmail"),
        "type": doc["type"],
        "creationTime": doc.get("createdAt"),
        "jobParams": {**params, "username": doc.get("createdBy")},
        "jobStatusMessage": doc["statusCode"],
        "datasetList": params.get("datasetList", []),
    }


def render(template: str, doc: Mapping[str, Any]) -> str:
    """``{{ job.KEY }}`` and ``{{ env.NAME }}`` filled in, HTML-escaped like handlebars
    does (so a base64 ``=`` becomes ``&#x3D;``); ``{{{ ... }}}`` unescaped; missing: empty."""

    def value(found: re.Match[str]) -> str:
        source: Mapping[str, Any] = doc if found[2] == "job" else os.environ
        item = source.get(found[3])
        text = "" if item is None else str(item)
        return text if found[1] else "".join(_ESCAPES.get(c, c) for c in text)

    return _PLACEHOLDER.sub(value, template)
