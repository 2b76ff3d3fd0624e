"""Writing an uploaded file into the landing folder: atomically, under a name nobody chose.

The upload portal is the only writer of the landing folder besides the people who copy files in by
hand. A clerk's file name is never used as a path: the file is stored as

    <landing>/<source>/<submitter>_<period>_<received>_<sha12>.<ext>

- `source` is one of the contract's source folders (anything else is refused);
- `submitter` and `period` are reduced to [0-9A-Za-z-] (a unit code, 2025Q1), so no component can
  hold a separator, "..", a NUL or a leading dot;
- `received` is the time the portal received the file, Beijing time, `YYYYMMDDTHHMMSS` — the ingest's
  dbt staging reads it back from the file name as the submission time when a file carries no
  填报日期 (RECEIVED_NAME_RE is the one definition of the pattern; stg_raw__task_progress matches it
  and checks the hash part against the file's sha256, so a renamed copy does not claim a time);
- `sha12` is the first 12 hex digits of the content's sha256, and `ext` comes from what the bytes are
  (xlsx, xls or csv), never from the name the clerk gave.

Atomic: the bytes go to a hidden temporary file in the same folder (the ingest ignores names that
start with "."), are flushed to disk, and are then hard-linked to the final name — a link never
replaces an existing file, so two uploads cannot overwrite each other; the temporary name is then
removed and the folder flushed. A reader of the landing folder sees either no file or the whole file.
Folders are opened one component at a time without following links, so a source folder replaced by a
link cannot redirect the write outside the landing folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingest.contracts import SOURCES
from qinglian.errors import UserError, os_reason
from qinglian.office_time import OFFICE_TZ

HASH_CHARS = 12
RECEIVED_FORMAT = "%Y%m%dT%H%M%S"
# The name as the dbt staging reads it: received time (group 1) and hash prefix (group 2).
RECEIVED_NAME_RE = r"_([0-9]{8}T[0-9]{6})_([0-9a-f]{12})(-[0-9]+)?\.(xlsx|xls|csv)$"
EXTENSIONS = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}
_UNSAFE = re.compile(r"[^0-9A-Za-z-]+")
MAX_COMPONENT = 40

# the same no-follow open flags the landing scan uses (the folder is one boundary for reads and writes)
from ingest.landing import _O_CLOEXEC, _O_DIRECTORY, _O_NOFOLLOW  # noqa: E402


class LandingWriteError(UserError):
    """The file could not be stored in the landing folder; the message is Chinese."""


@dataclass(frozen=True)
class Written:
    rel: str  # '/'-separated, relative to the landing folder
    path: Path
    sha256: str
    received_at: datetime
    existed: bool  # the identical file was already there under this name (nothing written)


def safe_component(value: str | None, fallback: str) -> str:
    """A name component that cannot be a path: [0-9A-Za-z-] only, not empty, bounded."""
    text = _UNSAFE.sub("-", value or "").strip("-")[:MAX_COMPONENT].strip("-")
    return text or fallback


def landing_name(submitter: str | None, period: str | None, received_at: datetime, sha256: str, kind: str) -> str:
    """The generated file name (without folder) for one upload."""
    if kind not in EXTENSIONS:
        raise LandingWriteError(f"只能报送 xlsx、xls 或 csv 文件（收到的是 {kind}）")
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    when = received_at.astimezone(OFFICE_TZ).strftime(RECEIVED_FORMAT)
    return (f"{safe_component(submitter, 'unknown')}_{safe_component(period, 'noperiod')}_{when}_"
            f"{sha256[:HASH_CHARS]}{EXTENSIONS[kind]}")


def parse_received(name: str) -> datetime | None:
    """The received time a generated name carries (Beijing time), or None for any other name."""
    m = re.search(RECEIVED_NAME_RE, name)
    if not m:
        return None
    return datetime.strptime(m.group(1), RECEIVED_FORMAT).replace(tzinfo=OFFICE_TZ)


def _open_dir(name: str | Path, dir_fd: int | None, create: bool) -> int:
    flags = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        if not create:
            raise
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o750, dir_fd=dir_fd)
        return os.open(name, flags, dir_fd=dir_fd)


def _same_content(dir_fd: int, name: str, data: bytes) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
        return digest.hexdigest() == hashlib.sha256(data).hexdigest()
    finally:
        os.close(fd)


def write_submission(landing: Path, source: str, data: bytes, *, kind: str, submitter: str | None,
                     period: str | None, received_at: datetime | None = None) -> Written:
    """Store `data` as an upload of `source` in the landing folder; returns where it went.

    The landing folder itself must exist (it is configured, not created here); the source folder is
    created when missing. The same bytes for the same submitter, period and second land under the
    same name: the second call writes nothing (existed=True).
    """
    if source not in SOURCES:
        raise LandingWriteError(f"未知来源 '{source}'，不能写入落地文件夹")
    received_at = received_at or datetime.now(OFFICE_TZ)
    sha = hashlib.sha256(data).hexdigest()
    name = landing_name(submitter, period, received_at, sha, kind)
    landing = Path(landing)
    try:
        root = os.open(landing, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except OSError as exc:
        raise LandingWriteError(f"落地文件夹 {landing} 无法使用（{os_reason(exc)}），文件未保存；请联系管理员") from None
    try:
        try:
            folder = _open_dir(source, root, create=True)
        except OSError as exc:
            why = "是链接或不是文件夹" if exc.errno in (errno.ELOOP, errno.ENOTDIR) else os_reason(exc)
            raise LandingWriteError(f"落地文件夹中的 {source}/ 无法写入（{why}），文件未保存；请联系管理员") from None
        try:
            final, existed = _link_new(folder, name, data)
        finally:
            os.close(folder)
    finally:
        os.close(root)
    return Written(f"{source}/{final}", landing / source / final, sha, received_at, existed)


def _link_new(folder: int, name: str, data: bytes) -> tuple[str, bool]:
    tmp = f".{name}.{secrets.token_hex(6)}.part"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o640, dir_fd=folder)
    except OSError as exc:
        raise LandingWriteError(f"无法在落地文件夹中创建文件（{os_reason(exc)}），文件未保存；请联系管理员") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        stem, ext = os.path.splitext(name)
        for n in range(1, 100):
            candidate = name if n == 1 else f"{stem}-{n}{ext}"
            try:
                os.link(tmp, candidate, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
            except FileExistsError:
                if _same_content(folder, candidate, data):
                    return candidate, True
                continue  # another file under this name (it cannot be these bytes): the next suffix
            os.fsync(folder)
            return candidate, False
        raise LandingWriteError("落地文件夹中同名文件过多，文件未保存；请联系管理员")
    except OSError as exc:
        raise LandingWriteError(f"写入落地文件夹失败（{os_reason(exc)}），文件未保存；请稍后重试或联系管理员") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
