-- The raw layer: what the ingest loaded, typed and resolved, with lineage on every row.
-- This file is the contract between the ingest (writer) and dbt's sources (reader).
-- Every data table carries: file_id (-> ingest_files), sheet, row_number (the 1-based row in
-- the sheet or CSV as a clerk sees it in Excel), loaded_at. Rows of superseded files stay
-- here; staging keeps only rows whose file has superseded_by IS NULL.

CREATE SCHEMA IF NOT EXISTS raw;

CREATE SEQUENCE IF NOT EXISTS raw.ingest_file_id START 1;

CREATE TABLE IF NOT EXISTS raw.ingest_files (
    file_id        BIGINT PRIMARY KEY,
    path           VARCHAR NOT NULL,   -- path relative to the landing folder, e.g. units/洋县_2025Q1.xlsx
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    source         VARCHAR,            -- regions | departments | tasks | task_progress | units | inspections | surveys | cases
    submitter      VARCHAR,            -- resolved code (department or region) when it resolves, else the name as written
    submitter_name VARCHAR,
    period         VARCHAR,            -- 2025Q1 for quarterly sources, 2025 for survey waves, NULL for reference data
    outcome        VARCHAR NOT NULL,   -- accepted | accepted_with_rejects | rejected
    outcome_label  VARCHAR NOT NULL,   -- 已接收 | 部分接收 | 已拒收
    message        VARCHAR,            -- Chinese file-level reason or note (e.g. personal data dropped)
    sheets         VARCHAR,            -- data sheets read, joined with ','
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    dropped_columns VARCHAR,           -- personal-data columns dropped, joined with ','
    loaded_at      TIMESTAMP NOT NULL,
    superseded_by  BIGINT              -- file_id of the corrected file that replaced this one
);

CREATE TABLE IF NOT EXISTS raw.ingest_rejects (
    file_id  BIGINT NOT NULL,
    file     VARCHAR NOT NULL,         -- path relative to the landing folder
    sheet    VARCHAR,
    "row"    BIGINT,                   -- NULL for a file-level reject
    "column" VARCHAR,
    value    VARCHAR,
    reason   VARCHAR NOT NULL          -- Chinese, actionable
);

CREATE TABLE IF NOT EXISTS raw.regions (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    region_code   VARCHAR NOT NULL,    -- 12 digits
    region_name   VARCHAR NOT NULL,
    region_level  VARCHAR NOT NULL,    -- 省 | 市 | 县 | 乡 | 村
    parent_code   VARCHAR,             -- 12 digits, NULL at the top
    population    BIGINT,
    is_synthetic  BOOLEAN NOT NULL     -- 备注 says 虚构/模拟: demo towns and villages
);

CREATE TABLE IF NOT EXISTS raw.departments (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    dept_code   VARCHAR NOT NULL,
    dept_name   VARCHAR NOT NULL,
    short_name  VARCHAR,
    aliases     VARCHAR[]              -- other spellings, split on 、 ; ；
);

CREATE TABLE IF NOT EXISTS raw.tasks (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    task_code           VARCHAR NOT NULL,
    task_name           VARCHAR NOT NULL,
    area                VARCHAR,
    lead_unit_name      VARCHAR NOT NULL,   -- 牵头单位 as written
    owner_code          VARCHAR NOT NULL,   -- resolved: dept_code, or 12-digit county region_code
    owner_group         VARCHAR NOT NULL,   -- department | county
    co_units            VARCHAR,            -- 责任单位 as written
    deadline            DATE,
    acceptance_standard VARCHAR,
    responsible_person  VARCHAR,
    issued_date         DATE                -- 下达日期; NULL means active from the start of the programme
);

CREATE TABLE IF NOT EXISTS raw.task_progress (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    task_code      VARCHAR NOT NULL,
    task_name      VARCHAR,
    reporter_name  VARCHAR,               -- 牵头单位/填报单位 as written
    owner_code     VARCHAR NOT NULL,      -- resolved
    quarter        VARCHAR NOT NULL,      -- 2025Q1
    status         VARCHAR NOT NULL,      -- 已完成 | 按序推进 | 滞后 | 未启动
    progress_pct   DOUBLE,                -- 0..100
    progress_text  VARCHAR,
    problems       VARCHAR,
    next_steps     VARCHAR,
    evidence_count BIGINT,
    report_date    DATE
);

CREATE TABLE IF NOT EXISTS raw.units (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    unit_code     VARCHAR NOT NULL,
    unit_name     VARCHAR,
    unit_type     VARCHAR NOT NULL,       -- 机关 | 学校 | 医院 | 企业 | 工程 | 村居
    region_input  VARCHAR,                -- 所属区划 as written
    region_code   VARCHAR NOT NULL,       -- resolved 12-digit code
    stage         VARCHAR NOT NULL,       -- 未启动 | 创建中 | 已达标 | 示范
    stage_level   INTEGER NOT NULL,       -- 0..3
    score         DOUBLE,
    assessed_date DATE,
    quarter       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS raw.inspections (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    issue_code         VARCHAR NOT NULL,
    inspection_round   VARCHAR,
    inspected_body     VARCHAR NOT NULL,  -- 被巡察单位 as written
    body_dept_code     VARCHAR,           -- set when 被巡察单位 resolves to a department
    region_input       VARCHAR,
    region_code        VARCHAR,           -- resolved 所属区划 (12 digits)
    category           VARCHAR,
    description        VARCHAR,
    found_date         DATE,
    deadline           DATE NOT NULL,
    status             VARCHAR NOT NULL,  -- 未整改 | 整改中 | 已整改
    completed_date     DATE,
    closed             BOOLEAN,           -- 是否销号
    responsible_person VARCHAR,
    quarter            VARCHAR NOT NULL   -- the ledger's as-of quarter
);

CREATE TABLE IF NOT EXISTS raw.survey_responses (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    response_id     VARCHAR NOT NULL,
    wave            VARCHAR NOT NULL,     -- '2025' for 2025年度
    region_input    VARCHAR,
    region_code     VARCHAR NOT NULL,
    respondent_type VARCHAR,              -- 群众 | 企业 | 党员干部 | 服务对象
    survey_mode     VARCHAR               -- 电话 | 网络 | 入户
);

CREATE TABLE IF NOT EXISTS raw.survey_answers (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    response_id VARCHAR NOT NULL,
    question    VARCHAR NOT NULL,         -- Q1 .. Qn
    answer      VARCHAR NOT NULL,         -- 很满意 | 满意 | 基本满意 | 不满意 | 很不满意 | 不了解
    answer_code INTEGER NOT NULL          -- 5 .. 1, 0 for 不了解
);

CREATE TABLE IF NOT EXISTS raw.cases (
    file_id BIGINT NOT NULL, sheet VARCHAR, row_number BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
    region_input       VARCHAR,
    region_code        VARCHAR NOT NULL,
    period_label       VARCHAR,           -- 统计期 as written, e.g. 2025年1-6月
    quarter            VARCHAR NOT NULL,  -- the quarter the figures end in
    scope              VARCHAR NOT NULL,  -- 累计 (year to date) | 当季
    petitions          BIGINT,
    clues              BIGINT,
    talks              BIGINT,
    cases_filed        BIGINT,
    punished           BIGINT,
    form1              BIGINT,
    form2              BIGINT,
    form3              BIGINT,
    form4              BIGINT,
    detained           BIGINT,
    transferred        BIGINT,
    recovered_10k_yuan DOUBLE
);
