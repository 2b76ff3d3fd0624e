"""One PDF library (fpdf2) for every PDF the product writes: the receipt, the bulletin and the watermark
stamped over both embed Noto Sans CJK SC as CID fonts (pdffonts: CID Type 0C, emb yes); reportlab is
no longer a dependency. The watermark's overlay keeps its own resource names (QLW…), so it cannot swap
the document's font subset for its own."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from dashboards import watermark as wmk
from qinglian.submissions.receipt import render_receipt
from qinglian.submissions.store import Upload


def _fonts(pdf: bytes, tmp: Path) -> list[list[str]]:
    # `make test` installs poppler-utils (Makefile system-deps): missing, the check fails rather than skips
    assert shutil.which("pdffonts"), "需要 pdffonts（Debian poppler-utils）：请运行 make test 安装"
    path = tmp / "x.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return [line.split() for line in out]


def _text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "t.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_reportlab_is_gone() -> None:
    assert importlib.util.find_spec("reportlab") is None


def test_stamped_receipt_embeds_only_cid_fonts_and_keeps_both_texts(tmp_path: Path) -> None:
    u = Upload(received_at=datetime(2026, 1, 8, 10, 0), username="tianbao", unit_code="610723000000", source="units",
               original_name="洋县清廉单元.csv", size=2048, sha256="ab" * 32, outcome="accepted_with_rejects",
               unit_name="洋县清廉办", rows_read=4, rows_loaded=3, rows_rejected=1, id=7,
               rejects=[{"sheet": "填报表", "row": 5, "column": "创建阶段", "reason": "不在可选值内"}])
    wm = wmk.Watermark("洋县清廉办（填报）", "tianbao", "报送单位", "洋县", datetime(2026, 1, 8, 10, 5))
    stamped = wmk.stamp_pdf(render_receipt(u, "2025年第四季度"), wm)
    fonts = _fonts(stamped, tmp_path)
    assert len(fonts) == 2  # the receipt's subset and the watermark's
    for cols in fonts:
        assert "NotoSansCJKSC" in cols[0] and " ".join(cols[1:4]) == "CID Type 0C", cols
        assert cols[-5] == "yes", cols  # emb
    text = _text(stamped, tmp_path).replace(" ", "")
    assert "HZ20260108-000007" in text and "读入4行=入库3行+拒收1行" in text
    assert "查看/导出：洋县清廉办（填报）（tianbao）" in text and "2026-01-0810:05" in text
