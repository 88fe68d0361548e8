-- The published warehouse: the contract between the pipeline (its only writer) and
-- everything that reads it (the dashboard, the exports, outside tools).
-- Amounts are in 元. Rates are fractions (0.9972, not 99.72) and NULL where the
-- budget they divide by is 0 ("not applicable").
-- Generated from pipeline/publishing/contract.py by `python -m pipeline docs`: edit that file, not this one.

-- One row per build: when and from what it was built.
CREATE TABLE build_info (
    build_id VARCHAR NOT NULL,   -- sha256 over every input file's sha256: same input, same id
    built_at TIMESTAMP NOT NULL, -- wall-clock time of the build (the only non-deterministic value)
    raw_dir  VARCHAR NOT NULL,
    years    VARCHAR NOT NULL,   -- evaluation years found, comma separated
    files    INTEGER NOT NULL
);

-- 预算单位名录 as read from units.csv.
CREATE TABLE units (
    unit_code  VARCHAR NOT NULL,
    unit_name  VARCHAR NOT NULL,
    department VARCHAR NOT NULL,   -- 主管部门
    unit_type  VARCHAR NOT NULL,   -- 行政单位 / 参公事业单位 / 事业单位 / 乡镇
    region     VARCHAR,            -- 地区 (optional)
    PRIMARY KEY (unit_name)
);

-- Every file found under RAW/<year>/, in exactly one state.
CREATE TABLE ingest_files (
    file        VARCHAR NOT NULL,   -- path relative to RAW, '/' separated
    sha256      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,   -- workbook / report / other
    state       VARCHAR NOT NULL,   -- loaded / quarantined / superseded / skipped
    unit_name   VARCHAR,            -- as read from the file; for a quarantined workbook that names no unit, the roster unit its file name contains, else NULL
    year        INTEGER,            -- the year the file counts for: its <year> folder
    folder_year INTEGER,            -- the <year> folder the file was found in
    filed_on    DATE,               -- 填报日期
    reason      VARCHAR,            -- why quarantined / superseded / skipped, in Chinese
    PRIMARY KEY (file)
);

-- Every finding, with the cell it is about.
CREATE TABLE findings (
    file      VARCHAR NOT NULL,
    unit_name VARCHAR,
    year      INTEGER,
    severity  VARCHAR NOT NULL,   -- fatal / error / warning
    location  VARCHAR NOT NULL,   -- e.g. 数据表!C14, 评分表 第5行, 文件
    rule      VARCHAR NOT NULL,   -- stable rule id, e.g. identity.r13
    found     VARCHAR,
    expected  VARCHAR,
    message   VARCHAR NOT NULL    -- Chinese, what is wrong and what to do
);

-- 基本信息 of each loaded submission.
CREATE TABLE unit_info (
    unit_name     VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    file          VARCHAR NOT NULL,
    unit_code     VARCHAR,
    department    VARCHAR,
    unit_type     VARCHAR,
    filed_on      DATE,
    contact       VARCHAR,
    phone         VARCHAR,
    offices       INTEGER,            -- 内设机构数
    establishment INTEGER,            -- 编制数
    staff         INTEGER,            -- 在职人数
    retired       INTEGER,            -- 退休人数
    amount_unit   VARCHAR NOT NULL,   -- 元 or 万元: the unit the 数据表 was filled in
    PRIMARY KEY (unit_name, year)
);

-- Every figure of the 数据表 of each loaded submission, in 元, with its source cell.
CREATE TABLE data_lines (
    unit_name    VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    line         INTEGER NOT NULL,   -- 行次 1..25
    item         VARCHAR NOT NULL,   -- 项目 as printed on the form
    amount       DOUBLE,             -- 元 (rows 24, 25: counts); NULL when left blank
    source_cell  VARCHAR,            -- e.g. 数据表!C14
    source_value VARCHAR,            -- the cell as written, before conversion
    PRIMARY KEY (unit_name, year, line)
);

-- Every indicator of the 评分表: what the unit claims and what the figures support.
CREATE TABLE indicator_scores (
    unit_name     VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    code          VARCHAR NOT NULL,   -- A1 … B9
    level1        VARCHAR NOT NULL,   -- 一级指标
    level2        VARCHAR NOT NULL,   -- 二级指标
    level3        VARCHAR NOT NULL,   -- 三级指标
    max_score     DOUBLE NOT NULL,    -- 分值, from the year's framework
    self_score    DOUBLE,             -- 自评得分 as submitted
    review_score  DOUBLE,             -- 复核得分 of the indicator, in points: the officer's score from the ledger when one is recorded (kept within 0..分值, 2 decimals, in case the framework changed after the decision), else rule_score.
    rule          VARCHAR NOT NULL,   -- the rule that gave rule_score: judged, a formula's shape (proportional, deduct_above …), targets / measurable (judged when a 绩效目标表 rule had no sheet); the scoring engine's choice (pipeline/scoring/review.py), as the framework's rule gives it
    note          VARCHAR,            -- 评分说明
    source_cell   VARCHAR,            -- e.g. 评分表!F5
    rule_score    DOUBLE,             -- the rule's 复核得分 (the self-score within 0..分值 for judged), before any officer's score: the framework rule's own output (pipeline/scoring/framework.py, targets.py), not a function of this row
    review_source VARCHAR NOT NULL,   -- Where review_score comes from: officer when the ledger records an officer's score; else self when the rule is judged (the self-score within 0..分值); else rule.
    officer       VARCHAR,            -- the officer whose score counts (review_source = officer), as the ledger has it
    reason        VARCHAR,            -- the officer's reason (review_source = officer), as the ledger has it
    metric        VARCHAR,            -- formula indicators: the metric (pipeline/scoring/metrics.py), e.g. staff_control_rate
    metric_value  DOUBLE,             -- the metric's value used (a fraction, or a count); NULL when not applicable: the rule's own output, from the unit-year's figures (and the previous year's)
    PRIMARY KEY (unit_name, year, code)
);

-- One row per loaded unit and year: figures, metrics, scores, grades and ranks.
CREATE TABLE unit_scores (
    unit_code               VARCHAR,            -- roster first, else 基本信息
    unit_name               VARCHAR NOT NULL,
    department              VARCHAR,            -- 主管部门 (roster first, else 基本信息)
    unit_type               VARCHAR,            -- 单位类型 (roster first, else 基本信息)
    year                    INTEGER NOT NULL,
    file                    VARCHAR NOT NULL,
    budget_issued           DOUBLE,             -- r12 财政下达预算数, 元
    spent                   DOUBLE,             -- r13 支出决算数, 元
    execution_rate          DOUBLE,             -- 预算资金支出率 = 支出决算数 (r13) / 财政下达预算数 (r12).
    opening_budget          DOUBLE,             -- r9 年初支出预算数, 元
    basic_budget            DOUBLE,             -- r10 年初基本支出预算, 元
    project_budget          DOUBLE,             -- r11 年初项目支出预算, 元
    opening_execution_rate  DOUBLE,             -- 年初预算执行率 = 支出决算数 (r13) / 年初支出预算数 (r9).
    basic_execution_rate    DOUBLE,             -- 基本支出执行率 = 基本支出决算 (r14) / 年初基本支出预算 (r10).
    project_execution_rate  DOUBLE,             -- 项目支出执行率 = 项目支出决算 (r15) / 年初项目支出预算 (r11).
    budget_adjustment_rate  DOUBLE,             -- 预算调整率 = (财政下达预算数 (r12) − 年初支出预算数 (r9)) / 年初支出预算数 (r9).
    basic_spent             DOUBLE,             -- r14 基本支出, 元
    project_spent           DOUBLE,             -- r15 项目支出, 元
    basic_share             DOUBLE,             -- 基本支出占比 = 基本支出 (r14) / 支出决算数 (r13).
    carryover               DOUBLE,             -- r16 结转和结余, 元
    carryover_rate          DOUBLE,             -- 结转结余率 = 结转和结余 (r16) / (收入决算数 (r4) + 上年结转和结余 (r8)).
    public_budget           DOUBLE,             -- r17 公用经费预算数, 元
    public_spent            DOUBLE,             -- r18 公用经费实际支出数, 元
    public_control_rate     DOUBLE,             -- 公用经费控制率 = 公用经费实际支出数 (r18) / 公用经费预算数 (r17).
    sangong_budget          DOUBLE,             -- r19 三公经费预算数, 元
    sangong_spent           DOUBLE,             -- r20 三公经费实际支出数, 元
    sangong_control_rate    DOUBLE,             -- 三公经费控制率 = 三公经费实际支出数 (r20) / 三公经费预算数 (r19).
    sangong_abroad          DOUBLE,             -- r21 因公出国（境）费, NULL when not given, 元
    sangong_vehicles        DOUBLE,             -- r22 公务用车购置及运行维护费, 元
    sangong_reception       DOUBLE,             -- r23 公务接待费, 元
    self_score              DOUBLE,             -- 自评得分: the 合计 as stated, else the sum of the stated indicator scores (2 decimals); NULL when neither is stated.
    self_grade              VARCHAR,            -- 自评等级 as stated
    review_score            DOUBLE,             -- 复核得分: the sum of the indicators' 复核得分 (officers' scores where recorded), each rounded to 2 decimals before it is summed; in points, 2 decimals.
    review_grade            VARCHAR,            -- 复核等级: the band of the year's framework (`[grades]`) that 复核得分 reaches.
    inflation               DOUBLE,             -- 自评得分 − 复核得分, in points: how far the claim exceeds what the figures support.
    rank                    INTEGER,            -- By 复核得分 (2 decimals) among the roster's units of the year, highest first, competition ranking (1, 2, 2, 4); NULL for a unit not on the roster.
    rank_in_type            INTEGER,            -- rank among the roster's units of the same year and 单位类型.
    rank_in_department      INTEGER,            -- rank among the roster's units of the same year and 主管部门.
    low_execution_two_years BOOLEAN NOT NULL,   -- 预算资金支出率 below LOW_EXECUTION_RATE (pipeline/settings.py) this year and in the unit's previous calendar year, both loaded.
    errors                  INTEGER NOT NULL,   -- findings of severity error for this submission
    warnings                INTEGER NOT NULL,   -- findings of severity warning
    must_resubmit           BOOLEAN NOT NULL,   -- errors > 0: 退回修改.
    PRIMARY KEY (unit_name, year)
);

-- Year-over-year change per unit, for each year that has a previous year loaded.
CREATE TABLE unit_changes (
    unit_name                   VARCHAR NOT NULL,
    year                        INTEGER NOT NULL,
    previous_year               INTEGER NOT NULL,
    review_score                DOUBLE,
    previous_review_score       DOUBLE,
    review_score_change         DOUBLE,             -- 复核得分 − the previous loaded year's 复核得分, in points (2 decimals).
    review_grade                VARCHAR,
    previous_review_grade       VARCHAR,
    execution_rate_change       DOUBLE,             -- 预算资金支出率 − the previous loaded year's, in fraction points (0.05 = 5 个百分点); NULL when either year's rate is not applicable.
    sangong_control_rate_change DOUBLE,             -- 三公经费控制率 − the previous loaded year's, in fraction points; NULL when either is not applicable.
    PRIMARY KEY (unit_name, year)
);

-- Every roster unit (and every unit that submitted without being on it) for every year.
CREATE TABLE submission_status (
    unit_code     VARCHAR,
    unit_name     VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    submitted     BOOLEAN NOT NULL,   -- some workbook of this unit was found for the year
    loaded        BOOLEAN NOT NULL,   -- one was loaded
    must_resubmit BOOLEAN NOT NULL,   -- 退回修改: the loaded version has errors; or every version was quarantined; or a version newer than the loaded one was quarantined; or another unit's file copies this unit's; or a workbook of the unit was filed in another year's folder.
    in_roster     BOOLEAN NOT NULL,
    PRIMARY KEY (unit_name, year)
);

-- Figures stated in the narrative 自评报告, each with the sentence it came from.
CREATE TABLE report_figures (
    unit_name  VARCHAR,
    year       INTEGER,
    file       VARCHAR NOT NULL,
    item       VARCHAR NOT NULL,   -- e.g. execution_rate, r13, self_score, score.A3
    value      DOUBLE,             -- 元 for amounts, fraction for rates, points for scores
    text_value VARCHAR,            -- non-numeric items (self_grade, unit_name, filed_on)
    sentence   VARCHAR NOT NULL
);

-- 退回修改 and 整改 (contract section 12): what changed, cell by cell, between consecutive readable versions of a unit-year (oldest first by 填报日期, as for superseding).
CREATE TABLE submission_changes (
    unit_code VARCHAR,
    unit_name VARCHAR NOT NULL,
    year      INTEGER NOT NULL,
    from_file VARCHAR NOT NULL,   -- the older version, path relative to RAW
    to_file   VARCHAR NOT NULL,   -- the next version
    location  VARCHAR NOT NULL,   -- the cell in to_file, e.g. 数据表!C16, 评分表!F10, 基本信息!B7
    item      VARCHAR NOT NULL,   -- what the cell holds, e.g. 行次16“结转和结余”, B6 自评得分, 填报日期
    before    VARCHAR,            -- as compared: amounts in 元 (8,374,036.75), scores in points; NULL = blank
    after     VARCHAR,
    requested BOOLEAN NOT NULL    -- The changed cell is one an error or fatal finding of from_file was about: the finding's own cell, every line of an identity it found broken, the 合计 and 等级 for a finding on the 评分表 (requested_keys).
);

-- Every error or fatal finding of any version of a unit-year, one item per (rule, location).
CREATE TABLE rectifications (
    unit_code    VARCHAR,
    unit_name    VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    rule         VARCHAR NOT NULL,   -- as in findings
    location     VARCHAR NOT NULL,   -- as in findings: the same rule at the same place is the same item
    severity     VARCHAR NOT NULL,   -- fatal / error, as first found
    message      VARCHAR NOT NULL,   -- the finding's message as first found
    first_file   VARCHAR NOT NULL,   -- the first version that had it
    first_seen   DATE,               -- that version's 填报日期
    last_file    VARCHAR NOT NULL,   -- the newest version that had it
    status       VARCHAR NOT NULL,   -- fixed when a later version no longer has the item (fixed_file); overdue when still open on as_of, a day after the first asking notice's deadline (the deadline day itself is in time); else open.
    fixed_file   VARCHAR,            -- the first later version that no longer had it (status fixed)
    fixed_on     DATE,               -- that version's 填报日期
    notice_round INTEGER,            -- the first 退回修改 notice (ledger) that asked for it: 1, 2 …; NULL = none yet
    deadline     DATE,               -- that notice's resubmission deadline
    as_of        DATE,               -- the day status was judged on: the latest 填报日期 or notice date in the inputs
    PRIMARY KEY (unit_name, year, rule, location)
);

-- 抽查 (contract section 11): the units proposed for the officers' review by hand, per year. The same inputs always give the same sample.
CREATE TABLE review_sample (
    year        INTEGER NOT NULL,
    unit_code   VARCHAR,
    unit_name   VARCHAR NOT NULL,
    risk        DOUBLE NOT NULL,    -- Σ weight × signal over the unit-year's risk signals, weights from the framework's [sampling.weights] (a signal it does not weigh counts 0), in points (2 decimals).
    reasons     VARCHAR NOT NULL,   -- The signals the weights count, in Chinese and a fixed order, joined by ；, e.g. 错误2个；预算资金支出率85.00%低于90.00%; 无风险信号 when none counts.
    selected_by VARCHAR NOT NULL,   -- risk (the highest-risk half) / random (drawn within 单位类型, seeded by the year); set by the draw (pipeline/scoring/sampling.py), which decides at once which units are in the table and how each got in: the random part is drawn among units that are not in it, so no function of the table's rows gives it
    PRIMARY KEY (year, unit_name)
);

-- One row per target of a loaded unit's 绩效目标表 (contract section 9): what it set against what it achieved. Units without the sheet have no rows.
CREATE TABLE targets (
    unit_code   VARCHAR,            -- roster first, else 基本信息
    unit_name   VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    kind        VARCHAR,            -- 一级指标: 产出指标 / 效益指标 / 满意度指标 (merged cells carried down)
    category    VARCHAR,            -- 二级指标, e.g. 数量指标, 社会效益指标
    name        VARCHAR,            -- 三级指标: the target's name, e.g. 督办事项办结率
    direction   VARCHAR,            -- ≥ / ≤ / = / 定性 (as written when not one of them)
    target      DOUBLE,             -- 年度指标值 in the row's own unit (95% → 95); NULL for 定性 or unreadable
    target_text VARCHAR,            -- 年度指标值 as written
    unit        VARCHAR,            -- 计量单位: %, 件, 人次, 万元 …
    actual      DOUBLE,             -- 实际完成值 in the row's own unit; NULL for 定性 or unreadable
    actual_text VARCHAR,            -- 实际完成值 as written (for 定性: 达成 / 基本达成 / 部分达成 / 未达成)
    weight      DOUBLE NOT NULL,    -- 权重 as used: as written; 1 each when the sheet's weights are all blank; a blank or invalid one among filled ones takes the mean of the filled ones.
    completion  DOUBLE,             -- c between 0 and 1, 4 decimals: `≥` min(实际 / 指标, 1); `≤` 1 when 实际 ≤ 指标, else 指标 / 实际; `=` 1 within 0.5 % of 指标, else max(0, 1 − |实际 − 指标| / |指标|); `定性` the framework's [targets.qualitative] value of 实际完成值 (达成 1 … 未达成 0). Both values in the row's own unit. NULL when it cannot be computed (another direction, a value missing or not a number, a 定性 value outside the table).
    reason      VARCHAR,            -- 偏差原因
    location    VARCHAR NOT NULL    -- e.g. 绩效目标表 第5行
);
