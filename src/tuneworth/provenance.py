"""What produced a study: the package versions and the git commit, for the study run's tags
and the report."""

from __future__ import annotations

import subprocess
from importlib import metadata

_PACKAGES = ("tuneworth", "scikit-learn", "imbalanced-learn", "optuna", "pandas", "mlflow")


def environment_tags() -> dict[str, str]:
    """Git commit and package versions, so a study run says what produced it."""
    tags = {}
    for package in _PACKAGES:
        try:
            tags[f"tuneworth.version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        tags["mlflow.source.git.commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return tags
