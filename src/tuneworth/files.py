"""The one write probe of a directory, shared by the checks of the MLflow store and of the
report directory that run before any work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PROBE_PREFIX = ".tuneworth-probe-"


def probe_directory(directory: Path, nbytes: int = 0) -> Path | None:
    """Make ``directory`` if needed and write to a file in it that goes again.

    Returns the file that stands where a directory of the path should be (nothing is made
    then), or None once the write went through. ``nbytes`` zero bytes are written and
    synced, so that a nearly full disk shows now rather than in the middle of a run. The
    OSError of a failed write is raised as it is: its ``errno`` tells a read-only directory
    from a full disk or a name that is too long.
    """
    for parent in (directory, *directory.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                return parent
            break
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix=PROBE_PREFIX) as probe:
        if nbytes:
            probe.write(b"\0" * nbytes)
            probe.flush()
            os.fsync(probe.fileno())
    return None
