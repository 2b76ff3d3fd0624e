"""Errors a person can act on: a Chinese message and the exit code the command ends with.

Anything else that escapes a command is unexpected: the entry point logs its traceback to the log
file and prints one line saying so (qinglian.cli.main).
"""

from __future__ import annotations

# Exit codes of every `qinglian` command.
EXIT_OK = 0
EXIT_FAILED = 1  # the work did not complete (a build failed, a publish was blocked, files must be retried)
EXIT_USAGE = 2  # bad option, missing file, unusable warehouse (DESIGN §7)
EXIT_INTERNAL = 70  # an unexpected error; details in the log file
EXIT_BUSY = 75  # another run holds the warehouse (EX_TEMPFAIL: try again later)
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class UserError(Exception):
    """A problem the user can fix; `str(error)` is the Chinese sentence that says how."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class WorkFailed(UserError):
    """The command ran but its work did not complete; the message says what to do next."""

    exit_code = EXIT_FAILED


class Busy(UserError):
    """Another run is using the warehouse."""

    exit_code = EXIT_BUSY


def os_reason(exc: BaseException) -> str:
    """An operating-system error in Chinese (what the person can check), never its English text."""
    import errno

    code = getattr(exc, "errno", None)
    return {
        errno.EACCES: "权限不足", errno.EPERM: "权限不足", errno.ENOSPC: "磁盘空间不足", errno.EFBIG: "磁盘空间或文件大小已达上限",
        errno.ENOENT: "路径不存在", errno.ENOTDIR: "路径中有一段不是文件夹", errno.EISDIR: "是一个文件夹",
        errno.EROFS: "文件系统只读", errno.EIO: "磁盘读写错误", errno.ELOOP: "是链接", errno.ENAMETOOLONG: "路径过长",
        errno.EEXIST: "已存在同名文件",
    }.get(code, f"系统错误{f'（错误码 {code}）' if code else ''}")
