"""Plain helpers of the emulator tests: a logged-in client and request bodies."""

from __future__ import annotations

import urllib.parse

import requests

ADMIN = {"username": "admin", "password": "2jf70TPNZsS"}
ARCHIVE_MANAGER = {"username": "archiveManager", "password": "aman"}
INGESTOR = {"username": "ingestor", "password": "aman"}
USER1 = {"username": "user1", "password": "user1pass"}
FILES = [{"path": "a.dat", "size": 10, "time": "2024-01-01T00:00:00Z"}]


def quote(pid: str) -> str:
    return urllib.parse.quote(pid, safe="")


class Client:
    """A requests session against one emulator, logged in as ``account`` (admin)."""

    def __init__(self, emu, flavour: str = "next", account: dict | None = None):
        account = account or ADMIN
        self.emu = emu
        self.base = emu.url + "/api/v3"
        self.http = requests.Session()
        self.flavour = flavour
        if flavour == "loopback":
            answer = self.http.post(f"{self.base}/Users/login", json=account)
            self.token = answer.json()["id"]
            self.http.params = {"access_token": self.token}
        else:
            answer = self.http.post(f"{self.base}/auth/login", json=account)
            self.token = answer.json()["access_token"]
            self.http.headers["Authorization"] = f"Bearer {self.token}"

    def url(self, path: str) -> str:
        if path.startswith("/api/"):
            return self.emu.url + path
        return self.base + path

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.url(path), **kw)

    def post(self, path: str, body=None, **kw) -> requests.Response:
        return self.http.post(self.url(path), json=body, **kw)

    def patch(self, path: str, body=None, **kw) -> requests.Response:
        return self.http.patch(self.url(path), json=body, **kw)

    def put(self, path: str, body=None, **kw) -> requests.Response:
        return self.http.put(self.url(path), json=body, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.http.delete(self.url(path), **kw)


def raw_dataset(**extra) -> dict:
    body = {
        "type": "raw",
        "owner": "Alice",
        "ownerGroup": "p1",
        "contactEmail": "alice@example.org",
        "sourceFolder": "/data/p1/run1",
        "creationTime": "2024-01-01T00:00:00Z",
        "principalInvestigator": "Alice",
        "creationLocation": "/lab/instrument",
    }
    body.update(extra)
    return body


def block_body(archive_id: str = "/archive/a.tar", **extra) -> dict:
    body = {
        "archiveId": archive_id,
        "size": 10,
        "packedSize": 12,
        "version": "1.0",
        "chkAlg": "sha256",
        "dataFileList": FILES,
    }
    body.update(extra)
    return body
