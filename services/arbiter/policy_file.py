"""The policy in force: fixed (tests), or a file re-read without restart when it changes.

A changed file is re-read on the next decision (its modification time is checked at most once a
second); a file that no longer validates is refused with an error in the log, and the last good
policy stays in force.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from declic.pressure.loader import PolicyError, load_policy, parse_policy
from declic.pressure.policy import Policy

log = logging.getLogger("declic.arbiter.policy")

__all__ = ["PolicyError", "PolicySource", "load_policy", "parse_policy"]


class PolicySource:
    """The policy in force: a fixed one (tests), or a file re-read when its modification time changes."""

    CHECK_EVERY = 1.0

    def __init__(self, policy: Policy | None = None, path: Path | None = None) -> None:
        if policy is None and path is None:
            raise ValueError("a policy or a policy file is needed")
        self._path = path
        self._policy = policy if policy is not None else load_policy(path)  # type: ignore[arg-type]
        self._mtime = path.stat().st_mtime_ns if path is not None else 0
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> Policy:
        """The policy in force now (re-read first if its file changed)."""
        if self._path is not None and time.monotonic() - self._checked >= self.CHECK_EVERY:
            with self._lock:
                self._checked = time.monotonic()
                self._reload_if_changed(self._path)
        return self._policy

    def _reload_if_changed(self, path: Path) -> None:
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._mtime:
                return
            self._mtime = mtime  # a bad file is reported once, not every second
            self._policy = load_policy(path)
            log.info("pressure policy reloaded from %s: version %s", path, self._policy.version)
        except (OSError, PolicyError) as exc:
            log.error("pressure policy %s not reloaded, version %s stays in force: %s", path, self._policy.version,
                      exc)
