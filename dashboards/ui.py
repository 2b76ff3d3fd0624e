"""Page scaffolding shared by every page: the data-source guard, tables with xlsx download, charts,
and the security helpers pages call: `md` (text from submissions shown as text), `watermark`,
`download_xlsx` / `download_export` (every download watermarked and audited through exports.export,
and built only while the session lives), and the filter widgets (`quarter_select`, `group_select`,
`filter_select`, `filter_widget`) — the only widgets whose values a page view's audit entry records.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import auth, colours, data, downloads, exports
from dashboards import watermark as wmk
from dashboards.exports import to_xlsx
from qinglian.security.scope import Scope

if TYPE_CHECKING:
    from ingest.limits import Limits

CJK_FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"
# Colours mean one thing (dashboards/colours.py): red is the red flag's only; snails have their own.
RED = colours.RED_FLAG
GREY = "#95A5A6"
PALETTE = colours.SERIES
# Words, not emoji: the servers and the PDF font have CJK glyphs but no colour-emoji font.
FLAG_COLOURS = colours.FLAG_COLOURS
_CELL_STYLES = {word: f"background-color: {bg}; color: {fg}; font-weight: 600"
                for word, (fg, bg) in colours.MARKS.items()}
_CELL_STYLES["样本不足"] = "color: #7F8C8D; font-style: italic"


def page_start(title: str, caption: str | None = None) -> data.Source:
    """Title, then the viewer's source; stops the page (with a Chinese message) if there is nothing to show."""
    st.title(title)
    try:
        src = data.current_source()
    except data.NotSignedIn:
        st.warning("请先登录后查看。")
        st.stop()
    if src.version is None:
        st.info(f"尚未发布驾驶舱数据：找不到发布副本 {src.path}。请先运行 `qinglian run` 完成一次季度任务。")
        st.stop()
    if caption:
        st.caption(caption)
    return src


# file name -> the st.Page the navigation registered this run (set by app.py); a page the viewer's role
# cannot open is not in it, so its link is plain text.
NAV_PAGES: dict[str, Any] = {}


def page_link(file: str, label: str, icon: str | None = None) -> None:
    """A line that opens another page (its drill-down); plain text where that page is not available."""
    target = NAV_PAGES.get(file)
    if target is None:
        st.markdown(label)
    else:
        st.page_link(target, label=label, icon=icon)


def empty(what: str) -> None:
    st.info(f"暂无{what}数据（发布副本中没有该表或该表为空）。")


# --- filters: the widgets a page view's audit entry records -----------------------------------------

# Keys of the widgets created through the helpers below. The audit of a page view (dashboards/app.py)
# records these and nothing else — never a text field someone typed into, never a password.
FILTER_KEYS: set[str] = set()
_FILTER_WIDGETS = ("selectbox", "radio", "multiselect", "date_input", "segmented_control", "pills", "text_input")


def filter_widget(widget: Callable[..., Any], label: str, *args: Any, key: str, **kwargs: Any) -> Any:
    """A filter (st.selectbox, st.radio, st.date_input, a plain st.text_input…) whose value is recorded
    with the page view. A password field can never be one."""
    if getattr(widget, "__name__", "") not in _FILTER_WIDGETS or kwargs.get("type") == "password":
        raise ValueError(f"{key}: only selections and plain text can be audited filters")
    FILTER_KEYS.add(key)
    return widget(label, *args, key=key, **kwargs)


def filter_select(label: str, options: Sequence[Any], *, key: str, **kwargs: Any) -> Any:
    """st.selectbox recorded as a filter of the page view."""
    return filter_widget(st.selectbox, label, options, key=key, **kwargs)


def quarter_select(src: data.Source, key: str, label: str = "季度") -> str | None:
    qs = data.quarters(src)
    if not qs:
        return None
    options = list(reversed(qs))
    return filter_select(label, options, index=0, key=key, format_func=lambda q: f"{data.quarter_label(q)}（{q}）")


def group_select(src: data.Source, key: str) -> str:
    """县区 / 市直部门; a county user only has their county."""
    if src.county is not None:
        return "county"
    return filter_widget(st.radio, "考核对象", ["county", "department"], horizontal=True, key=key,
                         format_func=lambda g: data.GROUP_LABELS[g])


def _safe_file_name(name: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", name).strip("_") or "导出"


def _viewer() -> Scope:
    viewer = auth.current_viewer()
    if viewer is None:
        st.warning("请先登录后查看。")
        st.stop()
    return viewer


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMES = {"xlsx": XLSX_MIME, "pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def download_export(label: str, build: Callable[[], bytes], *, kind: str, file_name: str, what: str, key: str,
                    rows: int | None = None, event: str = "export", **button: Any) -> None:
    """A download button whose file is built only when clicked (Streamlit's deferred download), then
    watermarked for the viewer and recorded in the audit log (exports.export). `file_name` without
    extension. Extra keyword arguments go to st.download_button (icon, type, …).

    The click runs outside this script run, so who is asking is read now — and checked again when the
    file is built (downloads.check_download): a logged-out or timed-out session, or another browser
    session that learnt the button's id, gets no file, and the refusal is audited."""
    viewer, client = _viewer(), auth.client_address()
    sid, browser_session = downloads.render_context()

    def deferred() -> bytes:
        downloads.check_download(viewer, sid, browser_session, client, what)
        return exports.export(build, kind=kind, what=what, scope=viewer, client=client, rows=rows, event=event,
                              file_name=f"{_safe_file_name(file_name)}.{kind}")

    button.setdefault("icon", ":material/download:")
    st.download_button(label, data=deferred, file_name=f"{_safe_file_name(file_name)}.{kind}", mime=MIMES[kind],
                       key=key, on_click="ignore", **button)


def download_xlsx(sheets: Mapping[str, pd.DataFrame], file_name: str, key: str, label: str = "下载 Excel") -> None:
    """A table's xlsx download (watermarked and audited)."""
    frozen = {k: v.copy() for k, v in sheets.items()}
    download_export(label, lambda: to_xlsx(frozen), kind="xlsx", file_name=file_name, what=file_name, key=key,
                    rows=exports.rows_of(frozen))


# --- text from submissions is text -----------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&\"'=^%@])")


JOINER = "\u2060"  # WORD JOINER: invisible, no line break
_WWW = re.compile(r"(?i)(www)(?=\.)")


def md(value: object) -> str:
    """Text for st.markdown / st.caption / st.subheader / st.info… that renders literally: every ASCII
    punctuation mark a renderer could read (links, emphasis, HTML, :colour[], $math$, @mentions) is
    backslash-escaped, bare URLs are defused, and line breaks become spaces. Use it for every name or
    description that came from a submitted file."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    # GFM finds bare links (http://, www., a@b.c) in the text after escapes are undone: an invisible
    # word joiner after ":" "@" and "www" keeps them from matching.
    text = _WWW.sub("\\1" + JOINER, text).replace(":", ":" + JOINER).replace("@", "@" + JOINER)
    return _MD_SPECIAL.sub(r"\\\1", text)


def plotly_text(value: object) -> object:
    """A label as plotly shows it literally (plotly reads <a href>, <b>… in text, entities decoded)."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


_TRACE_TEXT = ("x", "y", "text", "hovertext", "labels", "ids", "customdata")
_AXIS_TEXT = ("categoryarray", "ticktext")


def _escaped(values: Any) -> Any:
    """Strings escaped, everything else (numbers, dates, None) as is; arrays of numbers untouched."""
    if values is None or isinstance(values, bytes | bytearray):
        return values
    if isinstance(values, str):
        return plotly_text(values)
    if getattr(values, "dtype", None) is not None and values.dtype.kind not in "OUS":
        return values  # numbers
    try:
        items = list(values)
    except TypeError:
        return values
    if any(isinstance(v, str) and ("<" in v or "&" in v or ">" in v) for v in items):
        return [plotly_text(v) for v in items]
    return values


def safe_figure(fig: go.Figure) -> go.Figure:
    """Escape every string that reaches plotly's pseudo-HTML renderer: the traces' values and texts, and
    the layout's category orders, tick labels and annotations. Values and category
    orders go through the same function, so a name with < or & still lands on its own row."""
    for trace in fig.data:
        for attr in _TRACE_TEXT:
            values = getattr(trace, attr, None)
            escaped = _escaped(values)
            if escaped is not values:
                setattr(trace, attr, escaped)
        if isinstance(getattr(trace, "name", None), str):
            trace.name = plotly_text(trace.name)
    layout = fig.layout
    for name in layout:
        if not (name.startswith("xaxis") or name.startswith("yaxis")):
            continue
        axis = layout[name]
        for attr in _AXIS_TEXT:
            values = getattr(axis, attr, None)
            escaped = _escaped(values)
            if escaped is not values:
                setattr(axis, attr, escaped)
    for note in layout.annotations or ():
        if isinstance(note.text, str):  # a line break is the one markup an annotation keeps
            note.text = plotly_text(note.text).replace("&lt;br&gt;", "<br>")
    return fig


# Every page: a KPI card's label wraps onto a second line instead of ending in "…" (six cards share a
# 1440 px row beside the sidebar, and two share a phone's width).
HOUSE_CSS = """<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  height: auto !important; line-height: 1.3 !important; }
[data-testid="stMetricLabel"] { min-height: 1.3em; }
@media (max-width: 640px) { div[class*="st-key-wide-"] { display: none !important; } }
@media (min-width: 641px) { div[class*="st-key-narrow-"] { display: none !important; } }
</style>"""
# A container keyed "wide-…" shows on a desktop only and one keyed "narrow-…" on a phone only (HOUSE_CSS):
# for a chart whose long labels would leave no room for the data on a 390-pixel screen.


# Streamlit's table toolbar (the icons over a dataframe) has English tooltips and no option to translate
# them. A tooltip is drawn away from its button, so its text is replaced while that button is hovered or
# focused (body:has(...)): only one tooltip is open at a time.
TOOLBAR_WORDS = {
    "Show/hide columns": "显示/隐藏列",
    "Search": "搜索",
    "Fullscreen": "全屏查看",
    "Close fullscreen": "退出全屏",
    "Clear selection": "清除选择",
}


def toolbar_css() -> str:
    rules = []
    for english, chinese in TOOLBAR_WORDS.items():
        open_ = [f'body:has([data-testid="stElementToolbar"] button[aria-label="{english}"]:{state}) '
                 f'[data-testid="stTooltipContent"] [data-testid="stMarkdownContainer"] p' for state in ("hover", "focus-visible")]
        rules.append(f"{', '.join(open_)} {{ font-size: 0 !important; }}")
        rules.append(f"{', '.join(o + '::after' for o in open_)} {{ content: \"{chinese}\"; font-size: 0.875rem; }}")
    return "\n".join(rules)


def house_css() -> None:
    """The style every page shares (called once per run by app.py)."""
    st.html(HOUSE_CSS.replace("</style>", toolbar_css() + "\n</style>"))


def uploader_css(limits: Limits, types: Sequence[str]) -> None:
    """Chinese for the file uploader's own words (Streamlit has no option for them): the button, the
    size line, the drag hint, and the tooltip of a file it refused in the browser (English "File must be
    1.0MB or smaller." / "… files are not allowed."). The size is the ingest's own per-file limit
    (ingest/limits.py), the value the uploader enforces too (Limits.upload_mb)."""
    kinds = "、".join(t.upper() for t in types)
    size = f"{limits.file_mb:g} MB"
    refused = f"未上传：文件须为 {kinds} 格式，且不超过 {size}；请压缩、拆分或另存后重新选择"
    st.html(f"""<style>
[data-testid="stFileUploaderDropzone"] button p, [data-testid="stFileUploader"] section button p {{ font-size: 0 !important; }}
[data-testid="stFileUploaderDropzone"] button p::after {{ content: "选择文件"; font-size: 14px; }}
[data-testid="stFileUploaderDropzoneInstructions"] span, [data-testid="stFileUploaderDropzoneInstructions"] small {{
  font-size: 0 !important; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after, [data-testid="stFileUploaderDropzoneInstructions"] small::after {{
  content: "可拖放文件到此处；单个文件不超过 {size}，格式 {kinds}"; font-size: 13px; }}
[data-testid="stTooltipErrorContent"] {{ font-size: 0 !important; }}
[data-testid="stTooltipErrorContent"]::after {{ content: "{refused}"; font-size: 0.875rem; }}
</style>""")


def watermark(viewer: Scope) -> None:
    """The page watermark: viewer, role, time (and a county user's scope), light and repeated."""
    st.html(wmk.page_css(wmk.Watermark.for_scope(viewer)))


def _marker_style(value: object) -> str:
    # The first marker word decides the colour ("否决、约谈" is coloured as 否决).
    if isinstance(value, str):
        for word, css in _CELL_STYLES.items():
            if value.startswith(word):
                return css
    return ""


# Column names that hold scores or rates: their floats keep their decimals even when every value is whole
# (100.00, 75.00), so one column never mixes "100" and "96.63".
_MEASURE_WORDS = ("分", "率", "%", "指数", "权重", "比", "万元", "任务推进", "单元达标", "整改完成", "按时报送", "满意度",
                  "上限", "下限", "进度")


def float_digits(col: object, values: pd.Series) -> int:
    """Decimals a float column shows: rates in percent (a '%' in the name) 1, scores and other measures 2
    (exports.RATE_DIGITS / SCORE_DIGITS); 0 for a count column that is float only because of missing values."""
    name = str(col)
    if "%" in name or "％" in name:
        return exports.RATE_DIGITS
    if any(w in name for w in _MEASURE_WORDS):
        return exports.SCORE_DIGITS
    v = pd.to_numeric(values, errors="coerce").dropna()
    return 0 if not v.empty and bool((v == v.round()).all()) else exports.SCORE_DIGITS


def _num_formatter(digits: int) -> Callable[[object], str]:
    """Floats as exports rounds them (96.63, 100.00, 86.5%→86.5): one format, no stripped zeros; missing as —."""
    def fmt(v: object) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return "—"
        # per cell (the Styler calls this for every cell): the scalar, not texts() and its Series per call
        return exports.text(v, digits) if isinstance(v, float) else str(v)
    return fmt


def text_px(values: Sequence[object], label: str = "") -> int:
    """Pixels a column needs to show its longest text in full (CJK 14px a character, others 8px)."""
    def w(t: str) -> int:
        return sum(15 if ord(ch) > 0x2E80 else 8 for ch in t)
    longest = max([w(str(v)) for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))] + [w(label)],
                  default=60)
    return longest + 28


def name_column(values: Sequence[object], label: str = "名称") -> Any:
    """A body-name column: pinned on the left and wide enough that no name is ever cut."""
    return st.column_config.TextColumn(label, width=text_px(values, label), pinned=True)


def _auto_config(df: pd.DataFrame, given: Mapping[str, Any]) -> dict[str, Any]:
    """Dates as YYYY-MM-DD (pandas turns DATE into midnight datetimes), timestamps to the minute; floats
    with the decimals of float_digits (trailing zeros kept)."""
    cfg = dict(given)
    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col]):
            fmt = f"%.{float_digits(col, df[col])}f"
            given_col = cfg.get(col)
            if given_col is None:
                cfg[col] = st.column_config.NumberColumn(str(col), format=fmt)
            elif isinstance(given_col, dict):
                tc = given_col.get("type_config") or {}
                if tc.get("type") == "number" and not tc.get("format"):  # a pinned / sized number column
                    cfg[col] = {**given_col, "type_config": {**tc, "format": fmt}}
            continue
        if col in cfg or not pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        values = df[col].dropna()
        midnight = values.empty or bool((values == values.dt.normalize()).all())
        cfg[col] = (st.column_config.DateColumn(str(col), format="YYYY-MM-DD") if midnight
                    else st.column_config.DatetimeColumn(str(col), format="YYYY-MM-DD HH:mm"))
    return cfg


FULL_TABLE_ROWS = 40
ROW_PX = 35


def lead(df: pd.DataFrame, column_config: Mapping[str, Any] | None = None, *, name: str | None = None,
         sort: str | None = None, after_name: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The column a table is sorted by first, then the body's name, then `after_name` (its flag), all
    pinned on the left: on a phone the rest scrolls sideways under them, and the name column is as wide
    as its longest name (never cut)."""
    cfg = dict(column_config or {})
    front = [c for c in (sort, name, *after_name) if c and c in df.columns]
    out = df[front + [c for c in df.columns if c not in front]]
    for c in front:
        given = cfg.get(c)
        if c == name:
            cfg[c] = name_column(out[c], c)
        elif given is None:
            kind = (st.column_config.NumberColumn if pd.api.types.is_numeric_dtype(out[c]) else st.column_config.TextColumn)
            cfg[c] = kind(c, width=text_px(out[c], c), pinned=True)
        else:
            cfg[c] = {**given, "pinned": True} if isinstance(given, dict) else given
    return out, cfg


def frame(df: pd.DataFrame, *, column_config: Mapping[str, Any] | None = None, height: int | str = "auto",
          marked: Sequence[str] = (), name: str | None = None, sort: str | None = None,
          after_name: Sequence[str] = ()) -> None:
    """st.dataframe with the house formatting; `marked` columns colour the marker words
    (红旗, 蜗牛, 否决, 约谈, 边界接近, 样本不足); `sort`, `name` and `after_name` lead and are pinned (lead)."""
    if name or sort:
        df, column_config = lead(df, column_config, name=name, sort=sort, after_name=after_name)
    cols = [c for c in marked if c in df.columns]
    shown: Any = df
    if cols:
        # A Styler would print floats with six decimals; format them the way the plain table does.
        shown = df.style.map(_marker_style, subset=cols)
        for c in df.columns:
            if pd.api.types.is_float_dtype(df[c]):
                shown = shown.format(_num_formatter(float_digits(c, df[c])), subset=[c])
    if height == "auto" and len(df) <= FULL_TABLE_ROWS:
        # Streamlit's auto height stops at 10 rows; a ranking of 11 counties must be read without scrolling.
        height = ROW_PX * (len(df) + 1) + 3
    st.dataframe(shown, hide_index=True, column_config=_auto_config(df, column_config or {}), height=height,
                 width="stretch", placeholder="—")


def table(df: pd.DataFrame, name: str, key: str, *, column_config: Mapping[str, Any] | None = None,
          height: int | str = "auto", caption: str | None = None, marked: Sequence[str] = (),
          name_col: str | None = None, sort: str | None = None, after_name: Sequence[str] = (),
          wrap: bool = False) -> None:
    """A table and its xlsx download (the export is exactly what is shown, without the colours).
    `sort` (the column the rows are ordered by), `name_col` (the body's name) and `after_name` lead,
    pinned. `wrap`: sentences (a warning's 原因) wrap inside their cell instead of running off the
    right edge — the grid of st.dataframe cannot wrap, so the rows are drawn as a plain table."""
    if df.empty:
        st.info(f"暂无{name}。")
        return
    if caption:
        st.caption(caption)
    if name_col or sort:
        df, column_config = lead(df, column_config, name=name_col, sort=sort, after_name=after_name)
    if wrap:
        wrapped_table(df)
    else:
        frame(df, column_config=column_config, height=height, marked=marked)
    download_xlsx({name[:31]: df}, name, key=f"dl_{key}")


WRAPPED_TABLE_PX = 560  # a long list scrolls inside its box, the page's other sections stay reachable
WRAPPED_FULL_ROWS = 12  # up to this many wrapped rows are shown whole, without a box


def wrapped_table(df: pd.DataFrame) -> None:
    """Rows drawn as a plain table whose long texts wrap; dates as YYYY-MM-DD, floats as the grid shows them."""
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[col]):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(_num_formatter(float_digits(col, shown[col])))
    shown = shown.astype(object).where(shown.notna(), "—")
    height: int | str = "content" if len(shown) <= WRAPPED_FULL_ROWS else WRAPPED_TABLE_PX
    st.table(shown, border="horizontal", hide_index=True, height=height)


CHART_ROWS = 30


def chart_rows(df: pd.DataFrame, by: str, *, ascending: bool = True, what: str = "") -> pd.DataFrame:
    """At province scale a bar per body would be thousands of pixels tall: keep the CHART_ROWS most relevant
    rows for the chart (the table below keeps all of them) and say so."""
    if len(df) <= CHART_ROWS:
        return df
    st.caption(f"图中仅显示{what}{'最低' if ascending else '最高'}的 {CHART_ROWS} 个（共 {len(df)} 个），完整数据见下表。")
    return df.sort_values(by, ascending=ascending).head(CHART_ROWS)


def count_axis(fig: go.Figure, max_value: float, axis: str = "yaxis") -> go.Figure:
    """Whole-number ticks for counts (plotly would print 0.5 or 2.71 on a small range)."""
    step = max(1, int(-(-max(max_value, 1) // 5)))
    fig.update_layout({axis: dict(tickmode="linear", tick0=0, dtick=step, range=[0, max(max_value, 1) * 1.08])})
    return fig


def style(fig: go.Figure, height: int = 380, legend_title: str | None = None) -> go.Figure:
    """CJK font on every text element, compact margins, legend on top."""
    fig.update_layout(
        font=dict(family=CJK_FONT, size=13), title_font=dict(family=CJK_FONT),
        hoverlabel=dict(font_family=CJK_FONT), legend=dict(font=dict(family=CJK_FONT), orientation="h",
                                                           yanchor="bottom", y=1.02, x=0, title_text=legend_title or ""),
        margin=dict(l=10, r=10, t=40, b=10), height=height, colorway=PALETTE, separators=".,",
    )
    return fig


def bar_labels(fig: go.Figure, digits: int = 1, axis: str = "x", suffix: str = "") -> go.Figure:
    """Horizontal value labels on bars (plotly would rotate them in narrow bars), written by the same
    rounding as the tables (exports.texts), never by a d3 format that rounds its own way."""
    bars = [t for t in fig.data if getattr(t, "type", None) == "bar"]
    values = [pd.to_numeric(pd.Series(getattr(t, axis)), errors="coerce") for t in bars]
    top = max([float(v.max()) for v in values if v.notna().any()] + [0.0])
    for trace, v in zip(bars, values, strict=True):
        trace.text = exports.texts(v, digits, suffix)
        trace.texttemplate = "%{text}"
        trace.textangle = 0
        # a short (or zero) bar has no room inside: its label goes beside it instead of vanishing
        trace.textposition = ["inside" if pd.notna(x) and x >= top * 0.15 else "outside" for x in v]
        trace.cliponaxis = False
    return fig


def chart(fig: go.Figure, key: str, height: int = 380, legend_title: str | None = None) -> None:
    # The mode bar's tooltips are English and the tables already export; hide it for a clean Chinese UI.
    st.plotly_chart(safe_figure(style(fig, height, legend_title)), key=key, config={"displayModeBar": False, "locale": "zh-CN"},
                    width="stretch")


def pct_cols(df: pd.DataFrame, cols: Sequence[str], digits: int = exports.RATE_DIGITS) -> pd.DataFrame:
    """Rates in [0, 1] -> percentages rounded (half up, exports.percents) for display and export."""
    out = df.copy()
    for c in cols:
        if c in out.columns:
            out[c] = exports.percents(out[c], digits).to_numpy()
    return out


def round_cols(df: pd.DataFrame, cols: Sequence[str], digits: int = exports.SCORE_DIGITS) -> pd.DataFrame:
    """Columns rounded half up (exports.rounded) for display and export."""
    out = df.copy()
    for c in cols:
        if c in out.columns:
            out[c] = exports.rounded(out[c], digits).to_numpy()
    return out


def yes(series: pd.Series, mark: str = "是") -> pd.Series:
    """Boolean column -> mark / '' (NULL counts as no)."""
    return series.fillna(False).astype(bool).map({True: mark, False: ""})


def lineage_config() -> dict[str, Any]:
    return {
        "报送文件": st.column_config.TextColumn("报送文件", width="large"),
        "工作表": st.column_config.TextColumn("工作表", width="small"),
        "行号": st.column_config.NumberColumn("行号", format="%d", width="small"),
    }


LINEAGE = {"file_path": "报送文件", "sheet": "工作表", "row_number": "行号"}
