"""季度通报: the quarterly bulletin as an editable Word document, a PDF and an xlsx workbook.

Contents: the drafted text (dashboards/bulletin_draft.py: who got each flag and by which
indicators, who rose and fell and why, ties and near-ties, vetoes, 约谈, overdue rectifications by
escalation stage, lagging tasks, early warnings), then the tables it cites — the ranking with red
flags and snails (both groups), the annual grades when the quarter is a Q4, the lagging/unreported
tasks (督办清单) and the overdue open rectifications. It reads the published serving copy through
the scoped data modules, so a county bulletin (county_code) is filtered by the same rules as the
dashboards.

The PDF (fpdf2) embeds its Chinese font (dashboards/pdf_fonts.py: a subset of Noto Sans CJK SC), so it reads
the same on any machine; markers are words (红旗, 蜗牛, 否决, 约谈, 边界接近, 并列) in the colours
of dashboards/colours.py.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from dashboards import bulletin_draft, colours, data, data_ranking
from dashboards.bulletin_draft import Section
from dashboards.exports import rank_change_text, score, scores, to_xlsx
from qinglian import office_time


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


_PDF_WIDE = {"名称": 2, "并列/边界": 2.2, "缺项指标": 2, "任务名称": 4, "牵头单位": 1.6, "问题描述": 4, "责任对象": 1.4,
             "报送文件": 2.6, "原因": 5, "对象": 1.4, "预警类型": 1.6, "问题编号": 1.9, "工作表": 1.3, "整改时限": 1.3,
             "完成时间": 1.3, "处理期限": 1.3}

_PT = 25.4 / 72  # mm per point
# a paragraph's unbreakable pieces: a run of Latin letters, digits and number punctuation, or one character
_TOKENS = re.compile(r"[A-Za-z0-9.,%/+\-:]+|.", re.S)
_NO_LINE_START = "，。、；：？！）》」』】〉％,.;:?!)%…—"
_NO_LINE_END = "（《「『【〈("


def render_pdf(b: Bulletin) -> bytes:
    """The bulletin as a landscape A4 PDF (fpdf2, Noto Sans CJK SC embedded: dashboards/pdf_fonts.py)."""
    from fpdf import FPDF
    from fpdf.enums import Align, TableCellFillMode, WrapMode, XPos, YPos
    from fpdf.fonts import FontFace

    from dashboards import pdf_fonts
    from dashboards.pdf_fonts import rgb

    class Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font(pdf_fonts.FAMILY, size=8)
            self.set_text_color(0, 0, 0)
            self.cell(0, 4, f"第 {self.page_no()} 页", align="R")

    pdf = Doc(orientation="L", unit="mm", format="A4")
    family = pdf_fonts.add_fonts(pdf)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title(f"{b.title} {b.subtitle}")
    pdf.set_author("清廉建设办公室")
    pdf.set_creator("qinglian")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    body_pt, body_h = 10.5, 17 * _PT
    indent = "\u3000\u3000"  # 首行缩进两字

    def para_height(text: str) -> float:
        pdf.set_font(family, size=body_pt)
        return (int(pdf.get_string_width(indent + text) // width) + 1) * body_h + 1

    def heading(text: str, keep: float = 0.0) -> None:
        """A heading never stays alone at a page bottom: it moves on with what follows it."""
        h = 19 * _PT
        if pdf.will_page_break(10 * _PT + h + keep):
            pdf.add_page()
        pdf.ln(10 * _PT)
        pdf.set_font(family, "B", 13)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
        pdf.ln(2)

    def note(text: str) -> None:
        pdf.set_font(family, size=9)
        pdf.set_text_color(*rgb(colours.GREY))
        pdf.multi_cell(0, 14 * _PT, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)

    def paragraph(para: bulletin_draft.Para) -> None:
        """Runs wrapped by hand: CJK breaks between any two characters, a number or word ('20.0%') is
        never split, and a line never starts with closing punctuation (避头尾)."""
        pieces: list[tuple[str, str | None]] = [(indent, None)]
        for text, mark in para.runs:
            pieces += [(tok, mark if mark in colours.MARKS else None) for tok in _TOKENS.findall(text)]
        lines: list[list[tuple[str, str | None]]] = [[]]
        used = 0.0
        for tok, mark in pieces:
            pdf.set_font(family, "B" if mark else "", body_pt)
            w = pdf.get_string_width(tok)
            if used + w > width and lines[-1]:
                carry = []
                while len(lines[-1]) > 1 and (tok[0] in _NO_LINE_START and not carry or lines[-1][-1][0] in _NO_LINE_END):
                    carry.insert(0, lines[-1].pop())
                lines.append(carry)
                used = sum(pdf.get_string_width(t) for t, _ in carry)
            lines[-1].append((tok, mark))
            used += w
        for line in lines:
            pdf.set_x(pdf.l_margin)
            for tok, mark in line:
                pdf.set_font(family, "B" if mark else "", body_pt)
                pdf.set_text_color(*(rgb(colours.MARKS[mark][0]) if mark else (0, 0, 0)))
                pdf.cell(pdf.get_string_width(tok), body_h, tok)
            pdf.ln(body_h)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1)

    def table(df: pd.DataFrame) -> None:
        if df.empty:
            pdf.set_font(family, size=body_pt)
            pdf.multi_cell(0, body_h, "无。", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        marked = {j for j, c in enumerate(df.columns) if c in TABLE_MARKS}
        pdf.set_font(family, size=8.5)
        pdf.set_draw_color(*rgb("#BFBFBF"))
        pdf.set_line_width(0.4 * _PT)
        with pdf.table(width=width, col_widths=[_PDF_WIDE.get(str(c), 1.0) for c in df.columns],
                       line_height=11 * _PT, text_align=Align.L, wrapmode=WrapMode.WORD, padding=(1, 1.2),
                       headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=rgb("#34495E")),
                       cell_fill_color=rgb("#F4F6F7"), cell_fill_mode=TableCellFillMode.EVEN_ROWS) as t:
            head = t.row()
            for c in df.columns:
                head.cell(str(c))
            for rec in df.itertuples(index=False):
                row = t.row()
                for j, v in enumerate(rec):
                    txt = _cell_text(v)
                    mark = colours.mark_of(txt) if j in marked else None
                    if mark:
                        fg, bg = colours.MARKS[mark]
                        row.cell(txt, style=FontFace(emphasis="BOLD", color=rgb(fg), fill_color=rgb(bg)))
                    else:
                        row.cell(txt)

    pdf.add_page()
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 26 * _PT, b.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, size=11)
    pdf.cell(0, 15 * _PT, b.subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    if b.source_line:
        note(b.source_line)
    for sec in b.sections:
        heading(sec.title, keep=para_height(sec.paras[0].text) if sec.paras else 0.0)
        for p in sec.paras:
            paragraph(p)
    n = 1
    appendix = [(f"{label}红旗/蜗牛榜", df) for label, df in b.rankings.items()]
    appendix += [(f"{label}{b.quarter[:4]}年度考核", df) for label, df in b.annual.items()]
    appendix += [("滞后及未报送重点任务（督办清单）", b.lagging), ("逾期未整改巡察问题", b.overdue)]
    if not b.warnings.empty:
        appendix.append(("风险预警", b.warnings))
    for name, df in appendix:
        tie = name.endswith("红旗/蜗牛榜") and b.tie_rule
        # the heading travels with its note and the table's header and first rows
        heading(f"附表{n}　{name}", keep=(8 if tie else 0) + 24)
        if tie:
            note(f"并列说明：{b.tie_rule}。")
        table(df)
        n += 1
    pdf.ln(4)
    note(f"生成时间：{office_time.now():%Y-%m-%d %H:%M}")
    return bytes(pdf.output())


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
    gen = d.add_paragraph().add_run(f"生成时间：{office_time.now():%Y-%m-%d %H:%M}")
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
