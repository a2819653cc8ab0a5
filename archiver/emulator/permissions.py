"""Who may do what: the backend's group settings as a named profile, and the per-request checks.

Modelled on backend v5.2.1's CASL ability factory (``src/casl/casl-ability.factory.ts``) and its
jobs controller, configured like scicatlive (``../shared/research/backend.md`` sections 2.5, 5,
10). Profiles:

- ``scicatlive`` (the default): ``ADMIN_GROUPS=admin``, ``DELETE_GROUPS=archivemanager``,
  ``CREATE_DATASET_GROUPS=#all``, ``CREATE_DATASET_PRIVILEGED_GROUPS=ingestor``,
  ``PROPOSAL_GROUPS=proposalingestor``, ``SAMPLE_GROUPS=ingestor``, everything else empty; the
  job types' ``create``/``update`` auth of scicatlive's ``jobConfig.yaml``.
- ``permissive``: every account may do everything (the emulator's behaviour before profiles).

Each setting can be overridden (``Emulator(delete_groups="admin,archivemanager")``). A
:class:`Rights` object is computed once per account and holds plain booleans and a frozenset,
so every check is a few set look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from archiver.emulator.protocol import ApiError

#: The backend's group settings, as ``Emulator`` keyword names (env name upper-cased).
GROUP_SETTINGS = (
    "admin_groups",
    "delete_groups",
    "create_dataset_groups",
    "create_dataset_with_pid_groups",
    "create_dataset_privileged_groups",
    "update_dataset_lifecycle_groups",
    "create_job_privileged_groups",
    "update_job_privileged_groups",
    "delete_job_groups",
    "proposal_groups",
    "sample_groups",
)

#: scicatlive's ``jobConfig.yaml``: job type -> (create auth, update auth). ``archiveManager``
#: is a USER NAME (a bare word), ``@x`` would be group x, ``#...`` the built-in values.
SCICATLIVE_JOB_AUTH: dict[str, tuple[str, str]] = {
    "archive": ("#datasetOwner", "archiveManager"),
    "retrieve": ("#datasetAccess", "archiveManager"),
    "public": ("#all", "archiveManager"),
    "reset": ("archiveManager", "archiveManager"),
}
_CREATE_AUTH_VALUES = frozenset(
    {"#all", "#datasetPublic", "#authenticated", "#datasetAccess", "#datasetOwner", "#jobAdmin"}
)
_UPDATE_AUTH_VALUES = frozenset({"#all", "#jobOwnerUser", "#jobOwnerGroup", "#jobAdmin"})
_DATASET_AUTH = frozenset({"#datasetPublic", "#datasetAccess", "#datasetOwner"})

FORBIDDEN = "Forbidden resource"  # what NestJS's PoliciesGuard answers


@dataclass(frozen=True)
class Account:
    """A functional account: login name, password, groups (its role) and e-mail."""

    username: str
    password: str
    groups: tuple[str, ...]
    email: str


def _account(username: str, password: str, *groups: str) -> Account:
    return Account(username, password, groups, f"{username.lower()}@your.site")


#: scicatlive's functional accounts (each account's role is its group) plus a data owner.
FUNCTIONAL_ACCOUNTS: dict[str, Account] = {
    a.username: a
    for a in (
        _account("admin", "2jf70TPNZsS", "admin"),
        _account("ingestor", "aman", "ingestor"),
        _account("archiveManager", "aman", "archivemanager"),
        _account("proposalIngestor", "aman", "proposalingestor"),
        _account("user1", "user1pass", "group1"),
    )
}


def accounts_from(given: Mapping[str, Any] | None) -> dict[str, Account]:
    """Accounts from ``{name: password}`` or ``{name: (password, [groups])}``; a bare
    password gives the account one group, its name in lower case."""
    if given is None:
        return dict(FUNCTIONAL_ACCOUNTS)
    out: dict[str, Account] = {}
    for name, value in given.items():
        if isinstance(value, Account):
            out[name] = value
        elif isinstance(value, str):
            out[name] = _account(name, value, name.lower())
        else:
            password, groups = value
            out[name] = _account(name, password, *groups)
    return out


def _groups(value: str | Iterable[str]) -> frozenset[str]:
    """``"a, b"`` (as in the backend's environment) or an iterable -> a set of group names."""
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(g.strip() for g in items if g and g.strip())


@dataclass(frozen=True)
class Profile:
    """The backend's permission configuration."""

    name: str
    permissive: bool = False
    admin_groups: frozenset[str] = frozenset()
    delete_groups: frozenset[str] = frozenset()
    create_dataset_groups: frozenset[str] = frozenset({"#all"})
    create_dataset_with_pid_groups: frozenset[str] = frozenset()
    create_dataset_privileged_groups: frozenset[str] = frozenset()
    update_dataset_lifecycle_groups: frozenset[str] = frozenset()
    create_job_privileged_groups: frozenset[str] = frozenset()
    update_job_privileged_groups: frozenset[str] = frozenset()
    delete_job_groups: frozenset[str] = frozenset()
    proposal_groups: frozenset[str] = frozenset()  # no proposal routes: recorded only
    sample_groups: frozenset[str] = frozenset({"#all"})  # no sample routes: recorded only
    job_auth: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: dict(SCICATLIVE_JOB_AUTH)
    )

    def describe(self) -> str:
        """One line for banners: the profile and its non-empty settings."""
        if self.permissive:
            return "permissive (every account may do everything)"
        parts = [
            f"{name.upper()}={','.join(sorted(getattr(self, name)))}"
            for name in GROUP_SETTINGS
            if getattr(self, name)
        ]
        return f"{self.name} ({' '.join(parts)})"


PROFILES: dict[str, Profile] = {
    "scicatlive": Profile(
        "scicatlive",
        admin_groups=frozenset({"admin"}),
        delete_groups=frozenset({"archivemanager"}),
        create_dataset_privileged_groups=frozenset({"ingestor"}),
        proposal_groups=frozenset({"proposalingestor"}),
        sample_groups=frozenset({"ingestor"}),
    ),
    "permissive": Profile("permissive", permissive=True),
}
DEFAULT_PROFILE = "scicatlive"


def make_profile(
    name: str = DEFAULT_PROFILE,
    job_auth: Mapping[str, tuple[str, str]] | None = None,
    **overrides: str | Iterable[str] | None,
) -> Profile:
    """A named profile with single settings replaced (``None`` keeps the profile's value)."""
    if name not in PROFILES:
        raise ValueError(f"unknown permission profile {name!r}: use one of {', '.join(PROFILES)}")
    unknown = set(overrides) - set(GROUP_SETTINGS)
    if unknown:
        raise ValueError(
            f"unknown group setting(s) {sorted(unknown)}: use {', '.join(GROUP_SETTINGS)}"
        )
    changes: dict[str, Any] = {k: _groups(v) for k, v in overrides.items() if v is not None}
    if job_auth is not None:
        changes["job_auth"] = {**PROFILES[name].job_auth, **job_auth}
    return replace(PROFILES[name], **changes) if changes else PROFILES[name]


class Rights:
    """What one account may do under one profile (computed once per account)."""

    __slots__ = (
        "username", "email", "groups", "profile", "all", "admin", "delete",
        "dataset_tier", "lifecycle_any", "block_post", "job_read_any", "job_update_any",
        "job_privileged", "job_by_auth", "job_update_endpoint", "job_create_endpoint",
    )  # fmt: skip

    def __init__(self, profile: Profile, username: str, groups: Iterable[str], email: str):
        g = frozenset(groups)
        p = profile
        self.username, self.email, self.groups, self.profile = username, email, g, p
        self.all = p.permissive
        self.admin = self.all or bool(g & p.admin_groups)
        self.delete = self.all or bool(g & p.delete_groups)
        self.lifecycle_any = bool(g & p.update_dataset_lifecycle_groups)
        # The first matching branch of datasetInstanceAccess decides (admin > privileged > ...).
        if self.admin:
            self.dataset_tier = "admin"
        elif g & p.create_dataset_privileged_groups:
            self.dataset_tier = "privileged"
        elif g & p.create_dataset_with_pid_groups or "#all" in p.create_dataset_with_pid_groups:
            self.dataset_tier = "pid"
        elif g & p.create_dataset_groups or "#all" in p.create_dataset_groups:
            self.dataset_tier = "create"
        else:
            self.dataset_tier = "user"
        # POST /datablocks: literal membership ("#all" is not a group there).
        self.block_post = self.admin or bool(
            g
            & (
                p.create_dataset_groups
                | p.create_dataset_privileged_groups
                | p.create_dataset_with_pid_groups
            )
        )
        # jobsEndpointAccess / jobsInstanceAccessCan: the first matching branch decides
        # (admin > CREATE_JOB_PRIVILEGED_GROUPS > UPDATE_JOB_PRIVILEGED_GROUPS > auth values).
        create_priv = not self.admin and bool(g & p.create_job_privileged_groups)
        update_priv = (
            not self.admin and not create_priv and bool(g & p.update_job_privileged_groups)
        )
        self.job_privileged = self.admin or create_priv
        self.job_read_any = self.admin or create_priv or update_priv
        self.job_update_any = self.admin or update_priv
        self.job_by_auth = not (self.admin or create_priv or update_priv)
        mine = {"@" + x for x in g} | {username}
        creates = {c for c, _ in p.job_auth.values()}
        updates = {u for _, u in p.job_auth.values()}
        self.job_create_endpoint = self.job_privileged or (
            self.job_by_auth and bool(creates & (_CREATE_AUTH_VALUES | mine))
        )
        self.job_update_endpoint = self.job_update_any or (
            self.job_by_auth and bool(updates & (_UPDATE_AUTH_VALUES | mine))
        )

    # -- datasets (``acl`` = ownerGroup, accessGroups, isPublished, sharedWith) -------------
    def _owner(self, acl: tuple[str, tuple[str, ...], bool, tuple[str, ...]]) -> bool:
        return acl[0] in self.groups

    def _access(self, acl: tuple[str, tuple[str, ...], bool, tuple[str, ...]]) -> bool:
        return acl[0] in self.groups or acl[2] or not self.groups.isdisjoint(acl[1])

    def read_dataset(self, acl: Any) -> bool:
        """GET by pid and queries (owner, access group, shared with the e-mail, published)."""
        if self.admin or self.lifecycle_any:
            return True
        return self._access(acl) or self.email in acl[3]

    def update_dataset(self, acl: Any) -> bool:
        return self.admin or (self.dataset_tier != "user" and self._owner(acl))

    def update_lifecycle(self, acl: Any) -> bool:
        return self.update_dataset(acl) or self.lifecycle_any

    def read_blocks(self, acl: Any) -> bool:
        """OrigDatablocks and DataBlocks of a dataset (no ``sharedWith`` here)."""
        return self.admin or self._access(acl)

    def create_blocks(self, acl: Any) -> bool:
        if self.dataset_tier in ("admin", "privileged"):
            return True
        return self.dataset_tier != "user" and self._owner(acl)

    def create_dataset(self, owner_group: Any, with_pid: bool) -> bool:
        if self.dataset_tier in ("admin", "privileged"):
            return True
        if self.dataset_tier == "pid":
            return owner_group in self.groups
        return self.dataset_tier == "create" and owner_group in self.groups and not with_pid

    # -- jobs ---------------------------------------------------------------------------
    def read_job(self, job: Mapping[str, Any]) -> bool:
        if self.job_read_any:
            return True
        return job.get("ownerGroup") in self.groups or job.get("ownerUser") == self.username

    def update_job(self, job: Mapping[str, Any]) -> bool:
        if self.job_update_any:
            return True
        if not self.job_by_auth:  # CREATE_JOB_PRIVILEGED_GROUPS: read and create, no update
            return False
        auth = self.profile.job_auth.get(job.get("type", ""), ("#jobAdmin", "#jobAdmin"))[1]
        if auth == "#all":
            return True
        if auth == "#jobOwnerUser":
            return job.get("ownerUser") == self.username
        if auth == "#jobOwnerGroup":
            return job.get("ownerGroup") in self.groups
        if auth.startswith("@"):
            return auth[1:] in self.groups
        return auth != "#jobAdmin" and auth == self.username

    def create_auth(self, job_type: str) -> str:
        return self.profile.job_auth.get(job_type, ("#jobAdmin", "#jobAdmin"))[0]


_DENIED = {
    "read_dataset": "Unauthorized access",
    "read_blocks": "Unauthorized access",
    "create_blocks": "Unauthorized access",
    "update_dataset": "Unauthorized to update this dataset",
    "update_lifecycle": "Unauthorized to update this dataset",
}


def check_dataset(rights: Rights, acl: Any, action: str) -> None:
    """The instance check of a dataset route: 403 with the backend's message when denied.

    ``action`` is one of ``read_dataset``, ``read_blocks``, ``create_blocks``,
    ``update_dataset``, ``update_lifecycle``.
    """
    if not rights.all and not getattr(rights, action)(acl):
        raise ApiError(403, _DENIED[action])


def guard(allowed: bool) -> None:
    """The endpoint-level policy check: 403 "Forbidden resource"."""
    if not allowed:
        raise ApiError(403, FORBIDDEN)


def check_job_create(
    rights: Rights,
    job_type: str,
    owner_group: str | None,
    owner_user: str | None,
    contact_email: str | None,
    datasets: list[Any],
) -> None:
    """The checks of ``instanceAuthorizationJobCreate`` (v5.2.1), in the backend's order.

    ``datasets`` are the ACL tuples of the job's datasets (already known to exist).
    """
    if rights.all:
        return
    auth = rights.create_auth(job_type)
    if rights.job_privileged:
        if not owner_group and not owner_user and not contact_email:
            raise ApiError(422, "Contact email should be specified for an anonymous job.")
    else:
        if not owner_group:
            raise ApiError(403, "Invalid new job. Owner group should be specified.")
        if owner_user and owner_user != rights.username:
            raise ApiError(403, "Invalid new job. User owning the job should match user logged in.")
        if owner_group not in rights.groups:
            raise ApiError(403, "Invalid new job. User needs to belong to job owner group.")
    if not rights.admin and auth in _DATASET_AUTH and datasets:
        if auth == "#datasetOwner":
            ok = all(rights._owner(acl) for acl in datasets)
        elif auth == "#datasetAccess":
            ok = all(rights._access(acl) for acl in datasets)
        else:
            ok = all(acl[2] for acl in datasets)
        if not ok:
            raise ApiError(403, "User does not have access to all datasets, cannot create job.")
    if rights.job_privileged:
        return
    if auth in ("#all", "#authenticated") or auth in _DATASET_AUTH:
        return
    if auth.startswith("@") and auth[1:] in rights.groups:
        return
    if auth != "#jobAdmin" and auth == rights.username:
        return
    raise ApiError(403, "Unauthorized to create this job.")


def v3_owner_group(rights: Rights, job_type: str, datasets: list[Any]) -> str | None:
    """The ownerGroup the v3 shim derives for a job (``buildOwnerGroup`` of v5.2.1)."""
    if rights.all:
        return datasets[0][0] if datasets else (sorted(rights.groups) or [""])[0]
    auth = rights.create_auth(job_type)
    if not datasets or auth == "#datasetPublic":
        return None
    if auth == "#datasetOwner" and not rights.admin:
        found = [acl for acl in datasets if rights._owner(acl)]
    elif auth == "#datasetAccess":
        found = [acl for acl in datasets if rights._access(acl)]
    else:
        found = datasets
    if len(found) != len(datasets):
        return None
    return _first_unpublished(rights, auth, found)


def _first_unpublished(rights: Rights, auth: str, datasets: list[Any]) -> str | None:
    unpublished = [acl for acl in datasets if not acl[2]]
    if auth == "#datasetAccess" and not unpublished:
        return sorted(rights.groups)[0] if rights.groups else None
    return cast("str | None", unpublished[0][0] if unpublished else datasets[0][0])
