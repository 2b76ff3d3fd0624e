"""季度通报: the quarterly bulletin as PDF and xlsx.

Contents: the ranking with red flags and snails (both groups), the annual grades when the quarter
is a Q4, the lagging/unreported tasks (督办清单) and the overdue open rectifications. It reads
the published serving copy through data.py, so a county bulletin (county_code) is filtered by
the same rules as the dashboards.

The PDF uses reportlab's built-in CID font STSong-Light, which renders Chinese without shipping a
font file; it has no emoji, so markers are words (红旗, 蜗牛, 否决, 约谈, 边界接近).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from dashboards import data
from dashboards.exports import rank_change_text, to_xlsx

FONT = "STSong-Light"
VETO_DAYS = 90


@dataclass
class Bulletin:
    quarter: str
    scope_name: str
    published: dict | None
    rankings: dict[str, pd.DataFrame] = field(default_factory=dict)
    annual: dict[str, pd.DataFrame] = field(default_factory=dict)
    lagging: pd.DataFrame = field(default_factory=pd.DataFrame)
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.scope_name}清廉建设季度通报"

    @property
    def subtitle(self) -> str:
        return f"{data.quarter_label(self.quarter)}（{self.quarter}）"

    def sheets(self) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for label, df in self.rankings.items():
            out[f"{label}红旗蜗牛榜"] = df
        for label, df in self.annual.items():
            out[f"{label}年度考核"] = df
        out["滞后未报送任务"] = self.lagging
        out["逾期未整改问题"] = self.overdue
        return out


def _ranking_frame(rk: pd.DataFrame) -> pd.DataFrame:
    near = rk.near_tie.fillna(False).astype(bool)
    return pd.DataFrame({
        "排名": rk["rank"].astype("Int64"), "名称": rk.body_name, "综合得分": rk.composite_score.round(2),
        "较上季度": rk.rank_change.map(rank_change_text), "旗帜": rk.flag.fillna(""),
        "一票否决": rk.veto.fillna(False).astype(bool).map({True: "否决", False: ""}),
        "约谈": rk.talk_required.fillna(False).astype(bool).map({True: "约谈", False: ""}),
        "边界接近": [f"边界接近（差{m:.2f}分）" if n else "" for m, n in zip(rk.margin, near, strict=True)],
        "缺项指标": rk.missing_indicators.map(data.missing_labels),
    })


def build_bulletin(src: data.Source, quarter: str) -> Bulletin:
    """Everything the bulletin says, as frames (shared by the PDF, the xlsx and the page preview)."""
    _, scope_name = data.scope_root(src)
    b = Bulletin(quarter=quarter, scope_name=scope_name, published=data.latest_publish(src))
    names = data.name_map(src)
    for group, label in data.GROUP_LABELS.items():
        rk = data.ranking(quarter, group, src)
        if rk.empty:
            continue
        b.rankings[label] = _ranking_frame(rk)
        reds = "、".join(rk[rk.flag == "红旗"].body_name) or "无"
        snails = "、".join(rk[rk.flag == "蜗牛"].body_name) or "无"
        line = f"{label}组：红旗 {reds}；蜗牛 {snails}。"
        talk = rk[rk.talk_required.fillna(False).astype(bool)].body_name
        if not talk.empty:
            line += f"连续两个季度蜗牛、须约谈：{'、'.join(talk)}。"
        b.summary.append(line)
    if quarter.endswith("Q4"):
        year = int(quarter[:4])
        for group, label in data.GROUP_LABELS.items():
            a = data.assessment(year, group, src)
            if a.empty:
                continue
            frame = pd.DataFrame({
                "排名": a["rank"].astype("Int64"), "名称": a.body_name, "年度得分": a.annual_score.round(2),
                "等次": a.grade, "红旗": a.red_flags.astype("Int64"), "蜗牛": a.snails.astype("Int64"),
                "一票否决": a.veto.fillna(False).astype(bool).map({True: "否决", False: ""}),
            })
            extra = [c for c in a.columns if c.endswith("(年均)")]
            for c in extra:
                frame[c.replace("(年均)", "")] = a[c].round(1)
            b.annual[label] = frame
    lag = data.lagging_tasks(quarter, src)
    if not lag.empty:
        b.lagging = pd.DataFrame({
            "牵头单位": lag.owner_code.map(names).fillna(lag.owner_code), "任务编号": lag.task_code,
            "任务名称": lag.task_name, "推进状态": lag.status, "完成进度(%)": lag.progress_pct,
            "滞后天数": lag.days_late.astype("Int64"), "完成时限": lag.deadline,
        })
    od = data.overdue_issues(quarter, src)
    if not od.empty:
        b.overdue = pd.DataFrame({
            "责任对象": od.body_code.map(names).fillna(od.body_code), "问题编号": od.issue_code,
            "问题类别": od.category, "问题描述": od.description, "整改时限": od.deadline,
            "逾期天数": od.days_overdue.astype("Int64"),
            "备注": (od.days_overdue > VETO_DAYS).map({True: f"超{VETO_DAYS}天，一票否决", False: ""}),
        })
    b.summary.append(f"滞后或未报送的重点任务 {len(b.lagging)} 项；逾期未整改的巡察问题 {len(b.overdue)} 个。")
    return b


# --- renderers ----------------------------------------------------------------------------------


def render_xlsx(b: Bulletin) -> bytes:
    return to_xlsx(b.sheets(), title=f"{b.title} {b.subtitle}")


def _cell_text(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    if isinstance(v, pd.Timestamp | datetime):
        return f"{v:%Y-%m-%d}"
    return str(v)


def render_pdf(b: Bulletin) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    title = ParagraphStyle("t", fontName=FONT, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=4)
    sub = ParagraphStyle("s", fontName=FONT, fontSize=11, leading=15, alignment=TA_CENTER, spaceAfter=10)
    h2 = ParagraphStyle("h", fontName=FONT, fontSize=13, leading=18, spaceBefore=10, spaceAfter=6,
                        textColor=colors.HexColor("#A93226"))
    body = ParagraphStyle("b", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    cell = ParagraphStyle("c", fontName=FONT, fontSize=8.5, leading=11, wordWrap="CJK")
    head = ParagraphStyle("hd", parent=cell, textColor=colors.white)

    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{b.title} {b.subtitle}", author="清廉建设办公室")
    width = page[0] - 28 * mm

    def table(df: pd.DataFrame, wide: dict[str, float] | None = None) -> LongTable | Paragraph:
        if df.empty:
            return Paragraph("无。", body)
        wide = wide or {}
        weights = [wide.get(c, 1.0) for c in df.columns]
        col_w = [width * w / sum(weights) for w in weights]
        rows = [[Paragraph(escape(str(c)), head) for c in df.columns]]
        rows += [[Paragraph(escape(_cell_text(v)), cell) for v in rec] for rec in df.itertuples(index=False)]
        t = LongTable(rows, colWidths=col_w, repeatRows=1)
        t.setStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#A93226")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#BFBFBF")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#FBEEEE")]),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ])
        return t

    story: list = [Paragraph(escape(b.title), title), Paragraph(escape(b.subtitle), sub)]
    if b.published:
        story.append(Paragraph(escape(f"数据来源：驾驶舱发布副本，发布于 {b.published['published_at']:%Y-%m-%d %H:%M}，"
                                      f"规则版本 {b.published['rules_version']}。"), body))
    for line in b.summary:
        story.append(Paragraph(escape(line), body))
    n = 1
    for label, df in b.rankings.items():
        story += [Paragraph(f"{n}. {label}红旗/蜗牛榜", h2), table(df, {"名称": 2, "边界接近": 2, "缺项指标": 2})]
        n += 1
    for label, df in b.annual.items():
        story += [Paragraph(f"{n}. {label}{b.quarter[:4]}年度考核", h2), table(df, {"名称": 2})]
        n += 1
    story += [Paragraph(f"{n}. 滞后及未报送重点任务（督办清单）", h2), table(b.lagging, {"任务名称": 4, "牵头单位": 1.6})]
    n += 1
    story += [Paragraph(f"{n}. 逾期未整改巡察问题", h2), table(b.overdue, {"问题描述": 4, "责任对象": 1.4, "备注": 1.6})]
    story += [Spacer(1, 8), Paragraph(escape(f"生成时间：{datetime.now():%Y-%m-%d %H:%M}"), body)]

    def footer(canvas: object, doc_: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(FONT, 8)  # type: ignore[attr-defined]
        canvas.drawRightString(page[0] - 14 * mm, 8 * mm, f"第 {doc_.page} 页")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def file_stem(b: Bulletin, county_code: str | None) -> str:
    return f"清廉建设季度通报_{b.quarter}" + (f"_{b.scope_name}" if county_code else "")


def write_bulletin(serving_path: Path, quarter: str, out_dir: Path, county_code: str | None = None) -> list[Path]:
    """Write <out_dir>/清廉建设季度通报_<quarter>[_<county>].pdf and .xlsx; return both paths."""
    serving_path, out_dir = Path(serving_path), Path(out_dir)
    if not serving_path.exists():
        raise FileNotFoundError(f"找不到发布副本：{serving_path}（请先运行 qinglian run）")
    src = data.Source(serving_path, county_code, cached=False)
    if quarter not in data.quarters(src):
        raise ValueError(f"发布副本中没有 {quarter} 的数据；可选：{'、'.join(data.quarters(src)) or '无'}")
    b = build_bulletin(src, quarter)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(b, county_code)
    pdf, xlsx = out_dir / f"{stem}.pdf", out_dir / f"{stem}.xlsx"
    # Watermarked and audited like a download from the page; the actor is the operating-system account.
    from dashboards.exports import export
    from qinglian.security.accounts import cli_actor

    actor, rows, what = cli_actor(), sum(len(df) for df in b.sheets().values()), f"季度通报 {quarter}（命令行）"
    pdf.write_bytes(export(lambda: render_pdf(b), kind="pdf", what=what, scope=actor, rows=rows, event="bulletin"))
    xlsx.write_bytes(export(lambda: render_xlsx(b), kind="xlsx", what=what, scope=actor, rows=rows, event="bulletin"))
    return [pdf, xlsx]
