"""季度通报: the quarterly bulletin as an editable Word document, a PDF and an xlsx workbook.

Contents: the drafted text (dashboards/bulletin_draft.py: who got each flag and by which
indicators, who rose and fell and why, ties and near-ties, vetoes, 约谈, overdue rectifications by
escalation stage, lagging tasks, early warnings), then the tables it cites — the ranking with red
flags and snails (both groups), the annual grades when the quarter is a Q4, the lagging/unreported
tasks (督办清单) and the overdue open rectifications. It reads the published serving copy through
the scoped data modules, so a county bulletin (county_code) is filtered by the same rules as the
dashboards.

The PDF embeds its Chinese font (dashboards/pdf_fonts.py: a subset of Noto Sans CJK), so it reads
the same on any machine; markers are words (红旗, 蜗牛, 否决, 约谈, 边界接近, 并列) in the colours
of dashboards/colours.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from dashboards import bulletin_draft, colours, data, data_ranking
from dashboards.bulletin_draft import Section
from dashboards.exports import rank_change_text, score, scores, to_xlsx


@dataclass
class Bulletin:
    quarter: str
    scope_name: str
    published: dict | None
    county: str | None = None
    rankings: dict[str, pd.DataFrame] = field(default_factory=dict)
    annual: dict[str, pd.DataFrame] = field(default_factory=dict)
    lagging: pd.DataFrame = field(default_factory=pd.DataFrame)
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    tie_rule: str = ""

    @property
    def title(self) -> str:
        return f"{self.scope_name}清廉建设季度通报"

    @property
    def subtitle(self) -> str:
        return f"{data.quarter_label(self.quarter)}（{self.quarter}）"

    @property
    def source_line(self) -> str:
        if not self.published:
            return ""
        return (f"数据截至 {self.published['quarter']}，{self.published['published_at']:%Y-%m-%d %H:%M} 汇总发布，"
                f"按规则版本 {self.published['rules_version']} 计分；文中数字均可在附表及各单位报送台账中查到。")

    def sheets(self) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for label, df in self.rankings.items():
            out[f"{label}红旗蜗牛榜"] = df
        for label, df in self.annual.items():
            out[f"{label}年度考核"] = df
        out["滞后未报送任务"] = self.lagging
        out["逾期未整改问题"] = self.overdue
        if not self.warnings.empty:
            out["风险预警"] = self.warnings
        return out

    def text_frame(self) -> pd.DataFrame:
        """The drafted text as rows (the xlsx carries it too, for copying into other documents)."""
        rows = [{"部分": s.title, "内容": p.text} for s in self.sections for p in s.paras]
        return pd.DataFrame(rows, columns=["部分", "内容"])


def _ranking_frame(rk: pd.DataFrame, ties: pd.Series, single: set[tuple[str, str, str]]) -> pd.DataFrame:
    near = rk.near_tie.fillna(False).astype(bool)
    one = [(g, b, q) in single for g, b, q in zip(rk.body_group, rk.body_code, rk.quarter, strict=True)]
    notes = []
    for tie, n, m, o in zip(ties, near, rk.margin, one, strict=True):
        bits = [tie] if tie else []
        if n:
            bits.append(f"边界接近（差{score(m)}分）")
        if o:
            bits.append("单项指标")
        notes.append("、".join(bits))
    return pd.DataFrame({
        "排名": rk["rank"].astype("Int64"), "名称": rk.body_name, "旗帜": rk.flag.fillna(""),
        "综合得分": scores(rk.composite_score), "较上季度": rk.rank_change.map(rank_change_text),
        "一票否决": rk.veto.fillna(False).astype(bool).map({True: "否决", False: ""}),
        "约谈": rk.talk_required.fillna(False).astype(bool).map({True: "约谈", False: ""}),
        "并列/边界": notes,
        "缺项指标": rk.missing_indicators.map(data.missing_labels),
    })


def _stage_col(od: pd.DataFrame) -> pd.Series:
    if "stage" in od.columns:
        return od.stage.fillna("")
    return pd.Series([""] * len(od), index=od.index)


def build_bulletin(src: data.Source, quarter: str) -> Bulletin:
    """Everything the bulletin says, as text sections and frames (shared by the .docx, the PDF, the
    xlsx and the page preview)."""
    _, scope_name = data.scope_root(src)
    b = Bulletin(quarter=quarter, scope_name=scope_name, published=data.latest_publish(src), county=src.county)
    inp = bulletin_draft.load_inputs(src, quarter)
    b.sections = bulletin_draft.draft(inp, scope_name)
    b.tie_rule = inp.tie_rule
    single = data_ranking.one_indicator_flags(inp.contrib)
    names = inp.names
    for group, label in data.GROUP_LABELS.items():
        rk = data.ranking(quarter, group, src)
        if rk.empty:
            continue
        b.rankings[label] = _ranking_frame(rk, data_ranking.tie_label(rk), single)
    # One summary line per group, from the flags section (a county user's line names their own result).
    flags = next((s for s in b.sections if s.title.endswith("红旗和蜗牛")), None)
    if flags is not None:
        b.summary = [p.text for p in flags.paras if p.text.endswith("。") and ("组：" in p.text or p.text.startswith("本县区"))]
    if quarter.endswith("Q4"):
        year = int(quarter[:4])
        for group, label in data.GROUP_LABELS.items():
            a = data.assessment(year, group, src)
            if a.empty:
                continue
            frame = pd.DataFrame({
                "排名": a["rank"].astype("Int64"), "名称": a.body_name, "等次": a.grade,
                "年度得分": scores(a.annual_score), "红旗": a.red_flags.astype("Int64"), "蜗牛": a.snails.astype("Int64"),
                "一票否决": a.veto.fillna(False).astype(bool).map({True: "否决", False: ""}),
            })
            extra = [c for c in a.columns if c.endswith("(年均)")]
            for c in extra:
                frame[c.replace("(年均)", "")] = scores(a[c]).to_numpy()
            b.annual[label] = frame
    lag = inp.lagging
    if not lag.empty:
        b.lagging = pd.DataFrame({
            "牵头单位": lag.owner_code.map(names).fillna(lag.owner_code), "任务编号": lag.task_code,
            "任务名称": lag.task_name, "推进状态": lag.status, "完成进度(%)": lag.progress_pct,
            "滞后天数": lag.days_late.astype("Int64"), "完成时限": lag.deadline,
            "报送文件": lag.file_path, "工作表": lag.sheet, "行号": lag.row_number.astype("Int64"),
        })
    od = inp.overdue
    if not od.empty:
        b.overdue = pd.DataFrame({
            "责任对象": od.body_code.map(names).fillna(od.body_code), "督办阶段": _stage_col(od),
            "逾期天数": od.days_overdue.astype("Int64"), "问题编号": od.issue_code,
            "问题类别": od.category, "问题描述": od.description, "整改时限": od.deadline,
            "报送文件": od.file_path, "工作表": od.sheet, "行号": od.row_number.astype("Int64"),
        })
    w = inp.warnings
    if not w.empty:
        b.warnings = pd.DataFrame({
            "预警类型": w.kind_label, "对象": w.body_name, "原因": w.reason, "处理期限": w.act_by,
        })
    lagging_line = f"滞后或未报送的重点任务 {len(b.lagging)} 项；逾期未整改的巡察问题 {len(b.overdue)} 个。"
    b.summary.append(lagging_line)
    return b


# --- renderers ----------------------------------------------------------------------------------

TABLE_MARKS = ["旗帜", "一票否决", "约谈", "并列/边界", "督办阶段", "等次"]


def render_xlsx(b: Bulletin) -> bytes:
    sheets = {"通报正文": b.text_frame(), **b.sheets()}
    return to_xlsx(sheets, title=f"{b.title} {b.subtitle}")


def _cell_text(v: object) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return score(v)
    if isinstance(v, pd.Timestamp | datetime):
        return f"{v:%Y-%m-%d}"
    return str(v)


def _all_text(b: Bulletin) -> str:
    """Every character the PDF will draw (the embedded font is subset to these)."""
    parts = [b.title, b.subtitle, b.source_line, "第页共附表：无。生成时间"]
    parts += [s.title for s in b.sections] + [p.text for s in b.sections for p in s.paras]
    for name, df in b.sheets().items():
        parts.append(name)
        parts += [str(c) for c in df.columns]
        for col in df.columns:
            parts += [_cell_text(v) for v in df[col].tolist()]
    return "".join(parts)


_PDF_WIDE = {"名称": 2, "并列/边界": 2.2, "缺项指标": 2, "任务名称": 4, "牵头单位": 1.6, "问题描述": 4, "责任对象": 1.4,
             "报送文件": 2.6, "原因": 5, "对象": 1.4, "预警类型": 1.6}


def render_pdf(b: Bulletin) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer

    from dashboards import pdf_fonts

    text = _all_text(b)
    font = pdf_fonts.register(text)
    bold = pdf_fonts.register(text, "bold")
    # bulletFontName: a style's default bullet font (Helvetica) would be referenced, never embedded.
    title = ParagraphStyle("t", bulletFontName=font, fontName=bold, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4)
    sub = ParagraphStyle("s", bulletFontName=font, fontName=font, fontSize=11, leading=15, alignment=TA_CENTER, spaceAfter=10)
    h2 = ParagraphStyle("h", bulletFontName=font, fontName=bold, fontSize=13, leading=19, spaceBefore=10, spaceAfter=5, keepWithNext=1)
    body = ParagraphStyle("b", bulletFontName=font, fontName=font, fontSize=10.5, leading=17, wordWrap="CJK", firstLineIndent=21,
                          spaceAfter=3)
    note = ParagraphStyle("n", parent=body, fontSize=9, textColor=colors.HexColor(colours.GREY), firstLineIndent=0)
    cell = ParagraphStyle("c", bulletFontName=font, fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    head = ParagraphStyle("hd", parent=cell, fontName=bold, textColor=colors.white)

    def runs(para: bulletin_draft.Para) -> str:
        out = []
        for t, mark in para.runs:
            t = escape(t)
            if mark in colours.MARKS:
                fg, bg = colours.MARKS[mark]
                out.append(f'<font name="{bold}" color="{fg}" backColor="{bg}">{t}</font>')
            else:
                out.append(t)
        return "".join(out)

    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{b.title} {b.subtitle}", author="清廉建设办公室",
                            initialFontName=font)
    width = page[0] - 32 * mm

    def table(df: pd.DataFrame) -> LongTable | Paragraph:
        if df.empty:
            return Paragraph("无。", body)
        weights = [_PDF_WIDE.get(str(c), 1.0) for c in df.columns]
        col_w = [width * w / sum(weights) for w in weights]
        rows = [[Paragraph(escape(str(c)), head) for c in df.columns]]
        style = [
            ("FONTNAME", (0, 0), (-1, -1), font),  # a table's cell style would set Helvetica (never embedded)
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#34495E")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#BFBFBF")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F4F6F7")]),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        marked = {j for j, c in enumerate(df.columns) if c in TABLE_MARKS}
        for i, rec in enumerate(df.itertuples(index=False), start=1):
            row = []
            for j, v in enumerate(rec):
                txt = _cell_text(v)
                mark = colours.mark_of(txt) if j in marked else None
                if mark:
                    fg, bg = colours.MARKS[mark]
                    row.append(Paragraph(f'<font name="{bold}" color="{fg}">{escape(txt)}</font>', cell))
                    style.append(("BACKGROUND", (j, i), (j, i), colors.HexColor(bg)))
                else:
                    row.append(Paragraph(escape(txt), cell))
            rows.append(row)
        t = LongTable(rows, colWidths=col_w, repeatRows=1)
        t.setStyle(style)
        return t

    story: list = [Paragraph(escape(b.title), title), Paragraph(escape(b.subtitle), sub)]
    if b.source_line:
        story.append(Paragraph(escape(b.source_line), note))
    for sec in b.sections:
        paras = [Paragraph(runs(p), body) for p in sec.paras]
        # The heading never stays alone at a page bottom: it travels with its first paragraph.
        story.append(KeepTogether([Paragraph(escape(sec.title), h2), *paras[:1]]))
        story += paras[1:]
    n = 1
    appendix = [(f"{label}红旗/蜗牛榜", df) for label, df in b.rankings.items()]
    appendix += [(f"{label}{b.quarter[:4]}年度考核", df) for label, df in b.annual.items()]
    appendix += [("滞后及未报送重点任务（督办清单）", b.lagging), ("逾期未整改巡察问题", b.overdue)]
    if not b.warnings.empty:
        appendix.append(("风险预警", b.warnings))
    for name, df in appendix:
        heading = Paragraph(escape(f"附表{n}　{name}"), h2)
        if name.endswith("红旗/蜗牛榜") and b.tie_rule:
            story.append(KeepTogether([heading, Paragraph(escape(f"并列说明：{b.tie_rule}。"), note)]))
        else:
            story.append(heading)
        story.append(table(df))
        n += 1
    story += [Spacer(1, 8), Paragraph(escape(f"生成时间：{datetime.now():%Y-%m-%d %H:%M}"), note)]

    def footer(canvas: object, doc_: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(font, 8)  # type: ignore[attr-defined]
        canvas.drawRightString(page[0] - 16 * mm, 8 * mm, f"第 {doc_.page} 页")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    # initialFontName (above): reportlab would otherwise reference (never embed) Helvetica on every page.
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def render_docx(b: Bulletin) -> bytes:
    """The bulletin as an editable Word document: 标题, 正文 sections, then the tables."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    def rgb(hex_: str) -> RGBColor:
        return RGBColor.from_string(hex_.lstrip("#").upper())

    def east_asian(run_or_style: object, name: str) -> None:
        rpr = run_or_style.element.get_or_add_rPr() if hasattr(run_or_style, "element") else None  # type: ignore[attr-defined]
        if rpr is None:
            return
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        fonts.set(qn("w:eastAsia"), name)

    def shade(cell: object, hex_: str) -> None:
        tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), hex_.lstrip("#"))
        tc_pr.append(shd)

    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.orientation = WD_ORIENT.PORTRAIT
    for side in ("left_margin", "right_margin"):
        setattr(sec, side, Cm(2.2))
    normal = d.styles["Normal"]
    normal.font.size = Pt(12)
    east_asian(normal, "仿宋")
    for name in ("Title", "Heading 1", "Heading 2"):
        st_ = d.styles[name]
        st_.font.color.rgb = RGBColor(0, 0, 0)
        east_asian(st_, "黑体")

    t = d.add_paragraph(style="Title")
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t.add_run(b.title)
    p = d.add_paragraph(b.subtitle)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if b.source_line:
        r = d.add_paragraph().add_run(b.source_line)
        r.font.size = Pt(9)
        r.font.color.rgb = rgb(colours.GREY)
    for s in b.sections:
        d.add_heading(s.title, level=1)  # Word's heading styles keep with the next paragraph
        for para in s.paras:
            par = d.add_paragraph()
            par.paragraph_format.first_line_indent = Pt(24)
            for text, mark in para.runs:
                run = par.add_run(text)
                if mark in colours.MARKS:
                    fg, bg = colours.MARKS[mark]
                    run.bold = True
                    run.font.color.rgb = rgb(fg)
                    rpr = run.element.get_or_add_rPr()
                    shd = OxmlElement("w:shd")
                    shd.set(qn("w:val"), "clear")
                    shd.set(qn("w:color"), "auto")
                    shd.set(qn("w:fill"), bg.lstrip("#"))
                    rpr.append(shd)

    appendix = [(f"{label}红旗/蜗牛榜", df) for label, df in b.rankings.items()]
    appendix += [(f"{label}{b.quarter[:4]}年度考核", df) for label, df in b.annual.items()]
    appendix += [("滞后及未报送重点任务（督办清单）", b.lagging), ("逾期未整改巡察问题", b.overdue)]
    if not b.warnings.empty:
        appendix.append(("风险预警", b.warnings))
    for n, (name, df) in enumerate(appendix, start=1):
        d.add_heading(f"附表{n}　{name}", level=2)
        if name.endswith("红旗/蜗牛榜") and b.tie_rule:
            r = d.add_paragraph().add_run(f"并列说明：{b.tie_rule}。")
            r.font.size = Pt(9)
        if df.empty:
            d.add_paragraph("无。")
            continue
        table = d.add_table(rows=1, cols=len(df.columns))
        table.style = "Table Grid"
        for j, c in enumerate(df.columns):
            cell = table.rows[0].cells[j]
            cell.text = str(c)
            cell.paragraphs[0].runs[0].bold = True
            shade(cell, "#D5D8DC")
        marked = {j for j, c in enumerate(df.columns) if c in TABLE_MARKS}
        for rec in df.itertuples(index=False):
            cells = table.add_row().cells
            for j, v in enumerate(rec):
                txt = _cell_text(v)
                cells[j].text = txt
                mark = colours.mark_of(txt) if j in marked else None
                if mark and cells[j].paragraphs[0].runs:
                    fg, bg = colours.MARKS[mark]
                    run = cells[j].paragraphs[0].runs[0]
                    run.bold = True
                    run.font.color.rgb = rgb(fg)
                    shade(cells[j], bg)
                for prun in cells[j].paragraphs[0].runs:
                    prun.font.size = Pt(9)
    gen = d.add_paragraph().add_run(f"生成时间：{datetime.now():%Y-%m-%d %H:%M}")
    gen.font.size = Pt(9)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def file_stem(b: Bulletin, county_code: str | None) -> str:
    return f"清廉建设季度通报_{b.quarter}" + (f"_{b.scope_name}" if county_code else "")


def write_bulletin(serving_path: Path, quarter: str, out_dir: Path, county_code: str | None = None) -> list[Path]:
    """Write <out_dir>/清廉建设季度通报_<quarter>[_<county>].docx, .pdf and .xlsx; return the paths."""
    serving_path, out_dir = Path(serving_path), Path(out_dir)
    if not serving_path.exists():
        raise FileNotFoundError(f"找不到发布副本：{serving_path}（请先运行 qinglian run）")
    src = data.Source(serving_path, county_code, cached=False)
    if quarter not in data.quarters(src):
        raise ValueError(f"发布副本中没有 {quarter} 的数据；可选：{'、'.join(data.quarters(src)) or '无'}")
    b = build_bulletin(src, quarter)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(b, county_code)
    # Watermarked and audited like a download from the page; the actor is the operating-system account.
    from dashboards.exports import export
    from qinglian.security.accounts import cli_actor

    actor, rows, what = cli_actor(), sum(len(df) for df in b.sheets().values()), f"季度通报 {quarter}（命令行）"
    paths = []
    for kind, render in (("docx", render_docx), ("pdf", render_pdf), ("xlsx", render_xlsx)):
        path = out_dir / f"{stem}.{kind}"
        content = export(lambda r=render: r(b), kind=kind, what=what, scope=actor, rows=rows, event="bulletin")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)  # a half-written file never has the final name
        paths.append(path)
    return paths
