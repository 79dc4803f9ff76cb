"""A crash-safe local journal: one small JSON file per entry, written before the step it records.

Commit-reveal registration (and later vote reveals) must never lose a salt: the salt is written
here, fsync'ed with its folder, before the commitment that needs it is sent, so a crash at any
point leaves either no commitment or a journal entry that can reveal it. Writes are atomic
(temporary file, fsync, rename, fsync of the folder), so an entry is the old one or the new one,
never torn. Files are readable by their owner only: an entry holds secrets until it is revealed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from qfzz_chain.errors import QfzzError


class JournalError(QfzzError):
    """A journal entry cannot be read or written."""


class Journal:
    """Entries by key in ``directory`` (created owner-only on first write)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise JournalError(f"bad journal key {key!r}")
        return self.directory / f"{key}.json"

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(key)
        temporary = path.with_name(f".{path.name}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as out:
                json.dump(entry, out, indent=2, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
            folder = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            raise JournalError(f"cannot write journal entry {path}: {exc.strerror}") from exc

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise JournalError(f"journal entry {path} is unreadable ({exc}); it may hold a salt: keep it") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            entry = self.get(path.stem)
            if entry is not None:
                yield path.stem, entry
