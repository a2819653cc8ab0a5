"""The object every subcommand receives as ``ctx.obj``: global flags and settings.

Kept apart from ``archiver.cli.main`` so that subcommand modules never import the group
(which imports them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archiver.configure import apply
from archiver.settings import Settings, load_settings


@dataclass
class CLIContext:
    """What every subcommand shares: raw global flags and the settings built from them."""

    flags: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The settings, built once from the environment and the global flags, and applied
        to this process (runtime and logging: :func:`archiver.configure.apply`)."""
        if self._settings is None:
            self._settings = load_settings(overrides=self.flags)
            apply(self._settings)
        return self._settings
