"""`qinglian backup` / `qinglian restore`: consistent copies of the warehouse, taken while nothing writes.

A backup is taken under the warehouse's run lock (no ingest, build or run can write meanwhile), after a
checkpoint (everything committed is in the file, no WAL is needed), through a temporary file and
os.replace (a backup is complete or absent). Each publish takes one (orchestration.publish); the
newest N are kept (QINGLIAN_BACKUP_KEEP, default 8: two years of quarters).

A restore also holds the lock: the backup is verified (it opens, it has the ingest journal), the
current warehouse is kept beside it as `<name>.before-restore`, and its WAL — which belongs to the
old file and would otherwise be replayed onto the restored one — is moved away with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from qinglian import office_time
from qinglian.errors import UserError, os_reason

DEFAULT_KEEP = 8
PREFIX = "warehouse-"


def backup_dir(warehouse: Path) -> Path:
    env = os.environ.get("QINGLIAN_BACKUP_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else warehouse.parent / "backups"


def keep_count() -> int:
    from qinglian.settings import positive_int_env

    return positive_int_env("QINGLIAN_BACKUP_KEEP", DEFAULT_KEEP, "保留的备份份数")


def backups(warehouse: Path) -> list[Path]:
    """Newest first."""
    folder = backup_dir(warehouse)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{PREFIX}*.duckdb"), reverse=True)


def take_backup(warehouse: Path, keep: int | None = None, label: str = "") -> Path:
    """A consistent copy of `warehouse` in the backup folder; prunes to the newest `keep`."""
    import duckdb

    from qinglian.runlock import warehouse_lock

    warehouse = Path(warehouse).resolve()
    if not warehouse.is_file():
        raise UserError(f"数据仓库文件不存在：{warehouse}，没有可备份的内容")
    keep = keep or keep_count()
    folder = backup_dir(warehouse)
    with warehouse_lock(warehouse, "备份数据仓库"):
        try:
            with duckdb.connect(str(warehouse)) as con:
                con.execute("checkpoint")
        except duckdb.Error as exc:
            raise UserError(f"数据仓库 {warehouse} 无法打开，未备份（{exc}）") from exc
        # named by the office clock: the person choosing a backup to restore reads its time from the name
        stamp = office_time.wall_clock().strftime("%Y%m%d-%H%M%S-%f")
        target = folder / f"{PREFIX}{stamp}{('-' + label) if label else ''}.duckdb"
        tmp = folder / f".{target.name}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(warehouse, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"无法写入备份 {target}（{os_reason(exc)}），请检查磁盘空间和权限") from exc
    for old in backups(warehouse)[keep:]:
        old.unlink(missing_ok=True)
    return target


def restore(backup: Path, warehouse: Path) -> Path:
    """Put `backup` in place of `warehouse`; returns where the replaced warehouse was kept."""
    import duckdb

    from qinglian.runlock import warehouse_lock

    backup, warehouse = Path(backup).resolve(), Path(warehouse).resolve()
    if not backup.is_file():
        raise UserError(f"备份文件不存在：{backup}（qinglian backup --list 列出现有备份）")
    try:
        with duckdb.connect(str(backup), read_only=True) as con:
            con.execute("select count(*) from raw.ingest_files").fetchall()
    except duckdb.Error as exc:
        raise UserError(f"{backup} 不是可用的数据仓库备份（无法打开或缺少 raw.ingest_files），未恢复") from exc
    kept = warehouse.with_name(warehouse.name + ".before-restore")
    with warehouse_lock(warehouse, "从备份恢复数据仓库"):
        tmp = warehouse.with_name(f".{warehouse.name}.restore.tmp")
        try:
            shutil.copyfile(backup, tmp)
            if warehouse.exists():
                os.replace(warehouse, kept)
            wal = warehouse.with_name(warehouse.name + ".wal")
            if wal.exists():
                os.replace(wal, kept.with_name(kept.name + ".wal"))
            os.replace(tmp, warehouse)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"恢复失败（{os_reason(exc)}）；原数据仓库未改动或已保存为 {kept}") from exc
    return kept


def restore_serving(copy: Path, warehouse: Path) -> Path:
    """Put a kept serving copy (orchestration.publish.kept_copies) back in place of the serving copy the
    dashboards read, under the run lock (no publish can swap meanwhile); returns the serving path.

    The warehouse is not touched: the next run publishes from it again (restore a warehouse backup too
    when the warehouse itself must go back)."""
    import duckdb

    from orchestration.publish import rollback
    from qinglian.runlock import warehouse_lock
    from qinglian.settings import serving_path

    copy, warehouse = Path(copy).resolve(), Path(warehouse).resolve()
    if not copy.is_file():
        raise UserError(f"发布副本不存在：{copy}（qinglian backup --list 列出保留的发布副本）")
    try:
        with duckdb.connect(str(copy), read_only=True) as con:
            con.execute("select count(*) from marts.scorecard_quarterly").fetchall()
    except duckdb.Error as exc:
        raise UserError(f"{copy} 不是可用的发布副本（无法打开或缺少 marts.scorecard_quarterly），未恢复") from exc
    serving = serving_path(warehouse)
    with warehouse_lock(warehouse, "恢复发布副本"):
        try:
            rollback(serving, copy)
        except OSError as exc:
            raise UserError(f"恢复发布副本失败（{os_reason(exc)}）；驾驶舱仍显示原来的数据") from exc
    return serving
