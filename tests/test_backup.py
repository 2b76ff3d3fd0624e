"""Backups: a consistent copy taken under the run lock, pruned to N, and a restore that gives back the
same journal and, rebuilt with dbt, identical marts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from qinglian.backup import backups, restore, take_backup
from tests import faultkit


def test_backup_restore_and_rebuild_give_identical_marts(demo_built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qinglian.build import build_marts

    monkeypatch.delenv("QINGLIAN_BACKUP_DIR", raising=False)
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(demo_built[0], warehouse)  # the city demo ingested and built once for the whole run
    marts, journal = faultkit.marts_state(warehouse), faultkit.journal_state(warehouse)
    assert marts and "scorecard_quarterly" in marts
    first = take_backup(warehouse, keep=2)
    assert first.parent == tmp_path / "backups" and [p.name for p in first.parent.iterdir()] == [first.name]
    # The warehouse is then damaged: marts dropped, journal rows deleted, and a WAL left uncheckpointed.
    con = duckdb.connect(str(warehouse))
    con.execute("drop schema marts cascade")
    con.execute("delete from raw.ingest_files where source = 'units'")
    con.execute("checkpoint")
    con.execute("create table raw.junk as select 1 as x")  # stays in the WAL: the process 'dies'
    del con
    kept = restore(first, warehouse)
    assert kept.exists()
    assert faultkit.journal_state(warehouse) == journal
    assert faultkit.marts_state(warehouse) == marts
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'junk'").fetchall() == [(0,)]
    build_marts(warehouse, exclude="resource_type:test resource_type:unit_test", target_path=tmp_path / "t2")
    assert faultkit.marts_state(warehouse) == marts
    # Pruned to the newest two.
    second, third = take_backup(warehouse, keep=2), take_backup(warehouse, keep=2)
    assert backups(warehouse) == [third, second]


def test_backup_and_restore_commands_say_one_chinese_line(tmp_path: Path) -> None:
    env = {"QINGLIAN_LOG_DIR": str(tmp_path / "logs")}
    missing = faultkit.qinglian(["backup", "--warehouse", str(tmp_path / "none.duckdb")], env=env, timeout=120)
    assert missing.returncode == 2 and "没有可备份的内容" in missing.stderr
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database" * 50)
    bad = faultkit.qinglian(["restore", str(garbage), "--warehouse", str(tmp_path / "w.duckdb")], env=env, timeout=120)
    assert bad.returncode == 2 and "不是可用的数据仓库备份" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_each_publish_keeps_n_serving_copies_and_backs_up_the_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five publishes with QINGLIAN_SERVING_KEEP=2: the two copies replaced last are kept (the ones of
    publishes 3 and 4), each publish leaves a warehouse backup holding its own publish record, and
    `qinglian restore <kept copy> --serving` puts publish 3's copy back."""
    import subprocess
    import sys

    from orchestration.publish import kept_copies, publish
    from tests.test_publish import _fake_marts

    monkeypatch.delenv("QINGLIAN_BACKUP_DIR", raising=False)
    monkeypatch.setenv("QINGLIAN_SERVING_KEEP", "2")
    monkeypatch.setenv("QINGLIAN_BACKUP_KEEP", "3")
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving" / "warehouse.duckdb"
    _fake_marts(warehouse)

    def published_ids(path: Path) -> list[int]:
        with duckdb.connect(str(path), read_only=True) as con:
            return [i for (i,) in con.execute("select publish_id from ops.publish_log order by 1").fetchall()]

    for n in range(1, 6):
        result = publish(warehouse, serving, "2025Q1", run_id=f"run-{n}")
        assert result.publish_id == n and result.warning is None
    assert published_ids(serving) == [1, 2, 3, 4, 5]
    kept = kept_copies(serving)
    assert [published_ids(p)[-1] for p in kept] == [4, 3]
    found = backups(warehouse)
    assert [p.name.split("-publish")[1] for p in found] == ["5-2025Q1.duckdb", "4-2025Q1.duckdb", "3-2025Q1.duckdb"]
    assert published_ids(found[0]) == [1, 2, 3, 4, 5]  # taken after the publish was recorded
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QINGLIAN_WAREHOUSE": str(warehouse),
           "QINGLIAN_LOG_DIR": str(tmp_path / "logs")}
    qinglian = Path(sys.executable).parent / "qinglian"
    listed = subprocess.run([str(qinglian), "backup", "--list"], env=env, capture_output=True, text=True, timeout=120)
    assert "共 3 份数据仓库备份" in listed.stdout and "共 2 份保留的发布副本" in listed.stdout, listed.stdout + listed.stderr
    out = subprocess.run([str(qinglian), "restore", str(kept[1]), "--serving"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert published_ids(serving) == [1, 2, 3]
    bad = subprocess.run([str(qinglian), "restore", str(tmp_path / "nope.duckdb"), "--serving"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "发布副本不存在" in bad.stderr and "Traceback" not in bad.stderr
