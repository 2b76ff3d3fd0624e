"""The landing folder is the boundary: what is in it, and reading a file without leaving it.

`scan` lists every entry under the landing folder without following links: each regular file is
a candidate (in its source folder, at the root or in an unknown folder), and everything else gets
a reason (a link, a pipe or device, a folder that cannot be listed, an Office lock file).
Links are never followed, whether they point outside the folder or inside it: a link inside points
at a file that is itself in the folder and is processed under its own name, and following links
would let a name in the folder read anything the service account can read.

`read` opens a file relative to the landing folder one path component at a time with O_NOFOLLOW
(a folder swapped for a link during the run is refused, not followed), checks it is still a
regular file, and reads it whole, up to the file-size limit, into memory: the bytes hashed are the
bytes parsed, whatever happens to the file afterwards.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.contracts import SOURCES
from ingest.limits import Limits
from qinglian.errors import UserError, os_reason

# Office lock files (~$…), hidden files (.…) and notes/manifests by convention (_…) are not
# submissions; they are listed with that reason and not read.
IGNORED_PREFIXES = ("_", ".", "~$")
MAX_DEPTH = 8

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class LandingError(UserError):
    """The landing folder itself is unusable; the message is Chinese."""


@dataclass(frozen=True)
class Entry:
    rel: str  # '/'-separated, relative to the landing folder
    source: str | None  # the source folder it is in, None at the root or in an unknown folder
    kind: str  # file | link | special | unlisted | ignored
    size: int = 0
    mtime_ns: int = 0
    reason: str | None = None  # why a non-file entry is not read

    @property
    def misplaced(self) -> bool:
        return self.kind == "file" and self.source is None

    @property
    def where(self) -> str:
        parts = PurePosixPath(self.rel).parts
        return "落地文件夹根目录" if len(parts) == 1 else f"未知文件夹 {parts[0]}/"


class Vanished(Exception):
    """The file was there when listed and is gone now."""


class ReadFailed(Exception):
    """The file could not be read this time (permissions, I/O error); the message is Chinese."""


class NotRead(Exception):
    """The entry is not a file the ingest may read (it became a link or a device, or is too big)."""


def _open_dir(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    except FileNotFoundError:
        raise LandingError(f"落地文件夹不存在：{path}。请检查 --landing 参数或 QINGLIAN_LANDING 设置") from None
    except NotADirectoryError:
        raise LandingError(f"落地文件夹 {path} 不是文件夹，请指定包含 regions/、units/ 等子文件夹的目录") from None
    except PermissionError:
        raise LandingError(f"没有读取落地文件夹 {path} 的权限，请检查文件夹权限") from None


def scan(landing: Path) -> list[Entry]:
    """Every entry under the landing folder, in a stable order; links are listed, never followed."""
    landing = Path(landing)
    root = _open_dir(landing)
    out: list[Entry] = []
    try:
        _walk(root, (), landing, out)
    finally:
        os.close(root)
    return sorted(out, key=lambda e: e.rel)


def _walk(fd: int, parts: tuple[str, ...], landing: Path, out: list[Entry]) -> None:
    try:
        with os.scandir(fd) as it:
            names = sorted(entry.name for entry in it)
    except OSError as exc:
        rel = "/".join(parts) + "/" if parts else "./"
        out.append(Entry(rel, parts[0] if parts and parts[0] in SOURCES else None, "unlisted",
                         reason=f"文件夹无法读取（{_why(exc)}），其中的文件本次未处理"))
        return
    for name in names:
        rel_parts = (*parts, name)
        rel = "/".join(rel_parts)
        source = rel_parts[0] if len(rel_parts) > 1 and rel_parts[0] in SOURCES else None
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone between listing and stat: it is not in the folder
        except OSError as exc:
            out.append(Entry(rel, source, "unlisted", reason=f"无法读取文件信息（{_why(exc)}）"))
            continue
        if stat.S_ISLNK(st.st_mode):
            out.append(Entry(rel, source, "link", reason=_link_reason(fd, name, rel_parts, landing)))
        elif stat.S_ISDIR(st.st_mode):
            if name.startswith(IGNORED_PREFIXES):
                why = "隐藏文件夹" if name.startswith(".") else "以 _ 开头的文件夹（如归档、说明）"
                out.append(Entry(rel + "/", source, "ignored", reason=f"{why}，按约定其中的文件都不读取"))
                continue
            if len(rel_parts) >= MAX_DEPTH:
                out.append(Entry(rel + "/", source, "unlisted", reason=f"文件夹层级超过 {MAX_DEPTH} 层，未继续读取；请把文件放在来源文件夹下"))
                continue
            try:
                child = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                out.append(Entry(rel + "/", source, "unlisted", reason=f"文件夹无法读取（{_why(exc)}），其中的文件本次未处理"))
                continue
            try:
                _walk(child, rel_parts, landing, out)
            finally:
                os.close(child)
        elif not stat.S_ISREG(st.st_mode):
            out.append(Entry(rel, source, "special", reason="不是普通文件（管道、设备或套接字），系统不读取"))
        elif name.startswith(IGNORED_PREFIXES):
            why = "Office 临时锁定文件" if name.startswith("~$") else ("隐藏文件" if name.startswith(".") else "以 _ 开头的说明或清单文件")
            out.append(Entry(rel, source, "ignored", st.st_size, st.st_mtime_ns, reason=f"{why}，按约定不读取"))
        else:
            out.append(Entry(rel, source, "file", st.st_size, st.st_mtime_ns))


def _link_reason(fd: int, name: str, rel_parts: tuple[str, ...], landing: Path) -> str:
    try:
        target = os.readlink(name, dir_fd=fd)
    except OSError:
        target = "?"
    joined = os.path.normpath(os.path.join(str(landing), *rel_parts[:-1], target))
    base = os.path.normpath(str(landing))
    if joined == base or joined.startswith(base + os.sep):
        inside = Path(joined).relative_to(base).as_posix()
        return (f"是指向落地文件夹内 {inside} 的链接（快捷方式）；系统不跟随链接读取，该文件按其本身的位置处理。"
                f"如需报送，请放入文件本身而不是链接")
    return ("是指向落地文件夹以外的链接（快捷方式）；系统不读取落地文件夹以外的任何文件，"
            "请把文件本身复制到对应来源文件夹后再报送")


def _why(exc: OSError) -> str:
    return os_reason(exc)


def read(landing: Path, entry: Entry, limits: Limits) -> bytes:
    """The file's bytes, read inside the landing folder; Vanished / ReadFailed / NotRead otherwise."""
    parts = PurePosixPath(entry.rel).parts
    fds: list[int] = []
    try:
        try:
            fd = os.open(landing, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        except FileNotFoundError:
            raise Vanished(entry.rel) from None
        fds.append(fd)
        for part in parts[:-1]:
            fd = os.open(part, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=fd)
            fds.append(fd)
        fd = os.open(parts[-1], os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC, dir_fd=fd)
        fds.append(fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRead("不是普通文件（管道、设备或套接字），系统不读取")
        if st.st_size > limits.file_bytes:
            raise NotRead(_too_big(st.st_size, limits))
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limits.file_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limits.file_bytes:
                raise NotRead(_too_big(total, limits))
        return b"".join(chunks)
    except FileNotFoundError:
        raise Vanished(entry.rel) from None
    except (NotADirectoryError, OSError) as exc:
        if isinstance(exc, (Vanished, NotRead)):
            raise
        if getattr(exc, "errno", None) == errno.ELOOP or isinstance(exc, NotADirectoryError):
            raise NotRead("读取时已变成链接（快捷方式），系统不跟随链接读取") from None
        raise ReadFailed(f"文件无法读取（{_why(exc)}），下次运行将重试") from None
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _too_big(size: int, limits: Limits) -> str:
    return (f"文件大小 {size / 1024 / 1024:.1f} MB，超过 {limits.file_mb:g} MB 上限，未读取；请按单位拆分后分别报送；"
            f"确属正常台账的，请联系管理员调高上限（环境变量 {Limits.ENV_PREFIX}FILE_MB）")
