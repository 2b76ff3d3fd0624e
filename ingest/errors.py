"""Whole-file problems found while reading or parsing: the message is the Chinese reason."""

from __future__ import annotations


class FileRejected(Exception):
    """The file cannot be loaded; `str(exc)` tells the clerk what to do."""


# Older name, kept for callers that catch read errors specifically.
UnreadableFile = FileRejected


def is_reader_failure(exc: BaseException) -> bool:
    """An error a reader raises for a bad file: any Exception, or a panic in calamine's Rust code
    (pyo3's PanicException derives from BaseException). Interrupts and exits are never one."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
