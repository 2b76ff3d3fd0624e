"""surveys/: one file per county per yearly wave; raw questionnaires, some with personal data.

Layouts (rotating): 0 xlsx, answers as words, wave only in the title, 姓名/手机号/身份证号,
a 填表说明 sheet; 1 CSV UTF-8 with BOM, digits 5..1/0, 测评批次 column, 姓名/手机号, header
aliases; 2 CSV GBK, words, 年度 column, 12-digit codes, 第N题 headers; 3 CSV UTF-8 without BOM,
digits, a title row, 身份证号; 4 xlsx split into two sheets by survey mode, both with headers.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from qinglian.demo.emitter import Emitter, Meta
from qinglian.demo.messy import Row, Sheet
from qinglian.demo.names import person_names, rng_for
from qinglian.demo.reference import Programme
from qinglian.demo.simulate import ANSWER_WORDS, RESPONDENT_TYPES, SURVEY_MODES, SurveyWave, questions
from qinglian.demo.spelling import region_ref

_WORDS = np.array([ANSWER_WORDS[k] for k in range(6)], dtype=object)


def _personal(prog: Programme, wave: SurveyWave, columns: list[str]) -> list[list[str]]:
    """Obviously fake identities: 1380000xxxx phones, ID numbers ending in a serial and X."""
    n = len(wave.ids)
    rng = rng_for(prog.seed, "personal", wave.county.code, wave.year)
    names = person_names(rng, n)
    births = rng.integers(0, 365 * 55, size=n)
    out = []
    for k in range(n):
        row = []
        for c in columns:
            if c == "姓名":
                row.append(names[k])
            elif c == "手机号":
                row.append(f"1380000{k % 10_000:04d}")
            else:
                b = date(1950, 1, 1) + timedelta(days=int(births[k]))
                row.append(f"{wave.county.code6}{b:%Y%m%d}{k % 1000:03d}X")
        out.append(row)
    return out


def _question_headers(style: int) -> list[str]:
    if style == 0:
        return [f"Q{k + 1}.{q}" for k, q in enumerate(questions())]
    if style == 1:
        return [f"Q{k + 1}" for k in range(len(questions()))]
    return [f"第{k + 1}题" for k in range(len(questions()))]


def build(prog: Programme, wave: SurveyWave, layout: int) -> tuple[list[Sheet], str | None, list[str]]:
    """(sheets, csv encoding or None, personal-data columns)."""
    county = wave.county
    words = layout in (0, 2)
    personal = {0: ["姓名", "手机号", "身份证号"], 1: ["姓名", "手机号"], 3: ["身份证号"], 4: ["姓名", "手机号", "身份证号"]}.get(layout, [])
    ids_cols = _personal(prog, wave, personal) if personal else [[] for _ in wave.ids]
    region_style = "code12" if layout == 2 else ("name" if layout in (0, 4) else "code")
    wave_label = {1: f"{wave.year}年度", 2: str(wave.year), 3: f"{wave.year}年度", 4: f"{wave.year}年度"}.get(layout)
    answers = _WORDS[wave.answers] if words else wave.answers

    def row(k: int) -> Row:
        cells: list = [wave.ids[k]]
        if wave_label:
            cells.append(wave_label)
        cells += [region_ref(prog, wave.regions[k], region_style), RESPONDENT_TYPES[int(wave.rtype[k])], SURVEY_MODES[int(wave.mode[k])]]
        cells += ids_cols[k]
        cells += [str(a) if words else int(a) for a in answers[k]]
        return Row("data", cells)

    head = {0: ["问卷编号", "所属区划", "受访者类型", "调查方式"], 1: ["样本编号", "测评批次", "所属区划", "受访对象", "测评方式"],
            2: ["问卷编号", "年度", "区划代码", "受访者类型", "调查方式"], 3: ["问卷编号", "测评批次", "所属区划", "受访者类型", "调查方式"],
            4: ["问卷编号", "测评批次", "所属区划", "受访者类型", "调查方式"]}[layout]
    header = [*head, *personal, *_question_headers({0: 0, 1: 1, 2: 2, 3: 1, 4: 0}[layout])]
    title = f"{county.name}{wave.year}年度清廉建设群众满意度测评原始数据"
    if layout == 4:
        phone = [k for k in range(len(wave.ids)) if wave.mode[k] == 0]
        other = [k for k in range(len(wave.ids)) if wave.mode[k] != 0]
        sheets = [Sheet(name, header=[header], rows=[row(k) for k in part], titles=[title], widths={0: 20})
                  for name, part in (("电话调查", phone), ("网络及入户", other)) if part]
        return sheets, None, personal
    titles = [title] if layout in (0, 3) else []
    sheet = Sheet("问卷数据" if layout == 0 else county.name, header=[header], rows=[row(k) for k in range(len(wave.ids))],
                  titles=titles, widths={0: 20})
    encoding = {1: "utf-8-sig", 2: "gbk", 3: "utf-8"}.get(layout)
    return [sheet], encoding, personal


_PROSE = {"填表说明": ["本表为群众满意度测评原始问卷数据。", "答案可填写：很满意、满意、基本满意、不满意、很不满意、不了解。",
                   "姓名、手机号、身份证号仅用于回访核实，不得外传。"]}


def write_all(em: Emitter, prog: Programme, waves: list[SurveyWave]) -> None:
    for i, wave in enumerate(waves):
        layout = em.variant("surveys", i, 5)
        if prog.scale == "province" and layout in (0, 4) and i % 3:
            layout = 1  # province waves are large: mostly CSV, as a survey vendor would deliver
        sheets, encoding, personal = build(prog, wave, layout)
        county = wave.county
        stem = (f"{county.name}_{wave.year}年度满意度测评", f"{wave.year}年度{county.name}群众满意度测评数据")[i % 2]
        meta = Meta("surveys", county.name, str(wave.year), personal=personal)
        if encoding:
            em.csv(f"surveys/{stem}.csv", sheets[0], encoding, meta)
        else:
            em.xlsx(f"surveys/{stem}.xlsx", sheets, meta, _PROSE if layout == 0 else None)
