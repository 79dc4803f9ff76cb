"""Named crash points for crash-safety tests, as etcd's and TiKV's failpoints.

``crash_point("after-commit")`` ends the process at once (``os._exit``, no cleanup, as
``kill -9`` would) when ``QFZZ_CRASH_AT`` names that point, so a test can stop a command exactly
between two steps and check that running it again finishes the work once. Unset, it costs one
environment lookup.
"""

from __future__ import annotations

import os

CRASH_EXIT_CODE = 70


def crash_point(name: str) -> None:
    if os.environ.get("QFZZ_CRASH_AT") == name:
        os._exit(CRASH_EXIT_CODE)
