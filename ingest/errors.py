"""Whole-file problems found while reading or parsing: the message is the Chinese reason."""

from __future__ import annotations


class FileRejected(Exception):
    """The file cannot be loaded; `str(exc)` tells the clerk what to do."""


# Older name, kept for callers that catch read errors specifically.
UnreadableFile = FileRejected
