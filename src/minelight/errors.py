"""One line for an error: what the command line, the camera workers' logs and the cluster jobs print."""

from __future__ import annotations


def first_line(err: Exception) -> str:
    """The first line of ``err``'s message; its type's name when the message is blank."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def error_line(err: Exception) -> str:
    """:func:`first_line`, but an OSError as ``FILE: what went wrong`` (no ``[Errno N]``)."""
    if isinstance(err, OSError) and err.strerror and err.filename:
        return f"{err.filename}: {err.strerror[0].lower()}{err.strerror[1:]}"
    return first_line(err)
