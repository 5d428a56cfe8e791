"""The one exception type that reaches the user as a message instead of a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TuneworthError(Exception):
    """Bad input or an unusable setting.

    The message is one line that names the problem and, where there is one, the fix. The
    command line prints it and exits with code 2; library users catch it like any exception.
    """


def closest(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""
