"""Figures read from the narrative 自评报告 and checked against the tables (pure part)."""

from __future__ import annotations

import pytest

from pipeline.checking.findings import WARNING
from pipeline.narratives.reports import (
    ReportFigure,
    check_report,
    extract_figures,
    missing_report_finding,
    unmatched_report_finding,
)
from tests.test_reports_texts import (
    FULL_REPORT,
    SECTION7_AMOUNTS,
    SECTION7_SCORES,
    WANYUAN_REPORT,
    section7_tables,
    wanyuan_tables,
)


def _by_item(figures: list[ReportFigure]) -> dict[str, list[ReportFigure]]:
    grouped: dict[str, list[ReportFigure]] = {}
    for figure in figures:
        grouped.setdefault(figure.item, []).append(figure)
    return grouped


# ---------------------------------------------------------------- the full report, in 元

def test_every_section7_amount_is_read_with_its_sentence():
    figures = _by_item(extract_figures(FULL_REPORT))
    for line, amount in SECTION7_AMOUNTS.items():
        stated = figures.get(f"r{line}")
        assert stated, f"r{line} not extracted"
        for figure in stated:
            assert figure.value == pytest.approx(amount, abs=0.005), f"r{line}"
            assert figure.sentence and figure.written
            # the sentence is the one the figure was written in
            assert figure.written.replace(",", "")[:-1] in figure.sentence.replace(",", "").replace(" ", "")


def test_budget_and_actual_basic_spending_are_told_apart():
    figures = _by_item(extract_figures(FULL_REPORT))
    assert [f.value for f in figures["r10"]] == [8171282.08]
    assert [f.value for f in figures["r14"]] == [7034584.75]
    assert [f.value for f in figures["r11"]] == [2679715.00]
    assert [f.value for f in figures["r15"]] == [1339452.00]
    assert "年初支出预算数" in figures["r10"][0].sentence
    assert "支出决算数" in figures["r14"][0].sentence
    # 上年结转和结余 is income (r8); the closing 结转和结余 is r16
    assert [f.value for f in figures["r8"]] == [6038.13]
    assert [f.value for f in figures["r16"]] == [29911.13]


def test_full_width_digits_and_spaces_before_units_are_read():
    figures = _by_item(extract_figures(FULL_REPORT))
    # "８３７４０３６．７５元" and "10850997.08 元" in the text
    assert 8374036.75 in [f.value for f in figures["r13"]]
    assert figures["r1"][0].value == 10850997.08
    assert figures["year"][0].value == 2024


def test_every_execution_rate_claim_is_its_own_figure():
    rates = _by_item(extract_figures(FULL_REPORT))["execution_rate"]
    assert [(f.value, f.written) for f in rates] == [(1.0, "100%"), (0.9972, "99.72%")]
    assert "达到100%" in rates[0].sentence
    # the result after "=" is the rate; the "100%" of the formula is not a claim
    assert "×100%=99.72%" in rates[1].sentence
    assert rates[0].paragraph < rates[1].paragraph


def test_control_rates_budget_and_spending_of_public_and_sangong_funds():
    figures = _by_item(extract_figures(FULL_REPORT))
    assert figures["public_control_rate"][0].value == pytest.approx(0.6606)
    assert figures["sangong_control_rate"][0].value == pytest.approx(0.7557)
    assert [f.value for f in figures["r17"]] == [259000.00]
    assert [f.value for f in figures["r18"]] == [171086.57]
    assert [f.value for f in figures["r19"]] == [340000.00]
    assert [f.value for f in figures["r20"]] == [256929.66]


def test_title_items_total_grade_and_every_indicator_score():
    figures = _by_item(extract_figures(FULL_REPORT))
    assert figures["unit_name"][0].text_value == "遂溪县人民政府办公室本级"
    assert figures["filed_on"][0].text_value == "2025-07-28"
    assert [f.value for f in figures["self_score"]] == [98.0]
    assert [f.text_value for f in figures["self_grade"]] == ["优"]  # 优秀 → 优
    for code, score in SECTION7_SCORES.items():
        stated = figures[f"score.{code}"]
        assert [f.value for f in stated] == [score], code
        assert f"自评得分{score}分" in stated[0].sentence
    # 扣1分 is a deduction, not a score
    assert all(f.value != 1.0 for f in figures["score.B6"])


def test_the_tables_agree_except_the_100_percent_claim():
    findings = check_report(extract_figures(FULL_REPORT), section7_tables())
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == WARNING
    assert finding.rule == "report.mismatch.execution_rate"
    assert finding.found == "100%"
    assert finding.expected == "99.72%"
    assert finding.location == "自评报告 第14段"
    assert "100%" in finding.message and "99.72%" in finding.message
    assert "财政拨款资金整体支出完成率达到100%" in finding.message
    assert finding.file is None and finding.unit_name is None and finding.year is None


def test_a_changed_table_figure_is_reported_with_both_values():
    tables = section7_tables()
    tables["r14"] = 7034000.00
    tables["score.B6"] = 10.0
    tables["self_grade"] = "良"
    rules = {f.rule: f for f in check_report(extract_figures(FULL_REPORT), tables)}
    assert set(rules) == {"report.mismatch.execution_rate", "report.mismatch.r14",
                          "report.mismatch.score.B6", "report.mismatch.self_grade"}
    assert rules["report.mismatch.r14"].found == "7034584.75元"
    assert rules["report.mismatch.r14"].expected == "7,034,000.00元"
    assert "数据表第14行" in rules["report.mismatch.r14"].message
    assert rules["report.mismatch.score.B6"].expected == "10分"
    assert "评分表" in rules["report.mismatch.score.B6"].message
    assert rules["report.mismatch.self_grade"].found == "优秀"


def test_items_the_tables_do_not_have_are_not_checked():
    tables = {"execution_rate": None, "r13": 1.0}
    findings = check_report(extract_figures(FULL_REPORT), tables)
    assert {f.rule for f in findings} == {"report.mismatch.r13"}
    assert len(findings) == 2  # r13 is stated twice
    assert check_report(extract_figures(FULL_REPORT), {}) == []


# ---------------------------------------------------------------- agreement at the stated precision

def _figure(item: str, value: float, written: str) -> ReportFigure:
    return ReportFigure(item, value, None, f"本年{written}。", written, 3)


@pytest.mark.parametrize(("written", "value", "table", "agrees"), [
    ("99.72%", 0.9972, 8374036.75 / 8397200.18, True),
    ("99.7%", 0.997, 8374036.75 / 8397200.18, True),
    ("99.73%", 0.9973, 8374036.75 / 8397200.18, False),
    ("100%", 1.0, 8374036.75 / 8397200.18, False),
    ("100%", 1.0, 0.99999, True),
    ("66%", 0.66, 0.6606, True),
    ("0.9972", 0.9972, 0.99724, True),
])
def test_rates_agree_at_the_precision_the_report_states(written, value, table, agrees):
    findings = check_report([_figure("execution_rate", value, written)], {"execution_rate": table})
    assert (findings == []) is agrees


@pytest.mark.parametrize(("written", "value", "table", "agrees"), [
    ("8374036.75元", 8374036.75, 8374036.75, True),
    ("8374037元", 8374037.0, 8374036.75, True),
    ("8374038元", 8374038.0, 8374036.75, False),
    ("837.40万元", 8374000.0, 8374036.75, True),
    ("837.39万元", 8373900.0, 8374036.75, False),
    ("837.4万元", 8374000.0, 8374936.75, True),
    ("837万元", 8370000.0, 8374036.75, True),
    ("836万元", 8360000.0, 8374036.75, False),
])
def test_amounts_agree_within_a_yuan_or_the_last_stated_digit(written, value, table, agrees):
    findings = check_report([_figure("r13", value, written)], {"r13": table})
    assert (findings == []) is agrees


def test_a_long_sentence_is_quoted_around_the_figure():
    sentence = ("本单位在年度内坚持量入为出、厉行节约的原则，严格执行各项财务管理制度，"
                "经测算财政拨款资金整体支出完成率达到100%，较好完成了年初确定的各项工作任务和目标，"
                "为全县经济社会发展提供了有力保障")
    figure = ReportFigure("execution_rate", 1.0, None, sentence, "100%", 9)
    message = check_report([figure], {"execution_rate": 0.9972})[0].message
    quoted = message.split("（“")[1].split("”）")[0]
    assert "100%" in quoted
    assert len(quoted) <= 64
    assert quoted.startswith("…") or quoted.endswith("…")


# ---------------------------------------------------------------- another unit: 万元, other numbering

def test_a_wanyuan_report_with_other_numbering_and_missing_sections():
    figures = _by_item(extract_figures(WANYUAN_REPORT))
    assert figures["year"][0].value == 2023
    assert figures["unit_name"][0].text_value == "遂溪县农业农村局"
    assert figures["filed_on"][0].text_value == "2024-07-30"   # the signing date at the end
    # 年初预算数 under the 支出情况 heading is the spending budget, in 万元 × 10 000
    assert figures["r9"][0].value == 12805000.0
    assert figures["r10"][0].value == 8602500.0
    assert figures["r11"][0].value == 4202500.0
    assert figures["r12"][0].value == 13026600.0
    assert figures["r13"][0].value == 12501000.0
    assert figures["r14"][0].value == 8423000.0
    assert figures["r15"][0].value == 4078000.0
    # under the 三公经费 heading, an unqualified 年初预算 / 实际支出 is about 三公经费
    assert figures["r19"][0].value == 120000.0
    assert figures["r20"][0].value == 98500.0
    assert figures["sangong_control_rate"][0].value == pytest.approx(0.8208)
    assert figures["execution_rate"][0].value == pytest.approx(0.9597)
    assert figures["self_score"][0].value == 93.5
    assert figures["self_grade"][0].text_value == "优"
    assert figures["score.A3"][0].value == 9.5
    assert figures["score.B9"][0].value == 1.0
    # the report has no income section and no 公用经费 paragraph
    for absent in ("r1", "r4", "r17", "r18", "public_control_rate", "score.A1"):
        assert absent not in figures


def test_a_wanyuan_report_is_checked_at_its_own_precision():
    findings = check_report(extract_figures(WANYUAN_REPORT), wanyuan_tables())
    assert sorted(f.rule for f in findings) == ["report.mismatch.execution_rate",
                                                "report.mismatch.score.A3"]
    rate = next(f for f in findings if f.rule.endswith("execution_rate"))
    assert (rate.found, rate.expected) == ("95.97%", "95.96%")


def test_indicator_paragraphs_named_only_by_their_headings():
    text = """\
二、评价指标分析
（一）履职效能
1．部门整体绩效目标
本单位目标设置具有合理性、可衡量性，与年度任务相匹配，自评得分19分；
2．履职效益
围绕中心工作开展督查，办结率较高，得分18.5分。
（二）管理效率
1、预算管理
（1）事前绩效评估
当年没有新增项目。
自评得分2分。
（2）预算编制
年中追加预算两笔，自评得分2分。
3、信息公开
按时公开预决算，得分3分。
"""
    scores = {f.item: f.value for f in extract_figures(text) if f.item.startswith("score.")}
    assert scores == {"score.A1": 19.0, "score.A2": 18.5, "score.B1": 2.0,
                      "score.B2": 2.0, "score.B4": 3.0}


def test_framework_names_read_a_heading_written_in_the_years_own_words():
    text = "（六）数字化建设水平\n系统上线运行稳定，自评得分4分。\n"
    assert [f.item for f in extract_figures(text) if f.item.startswith("score.")] == []
    named = extract_figures(text, indicator_names={"C1": "数字化建设水平"})
    assert [(f.item, f.value) for f in named if f.item.startswith("score.")] == [("score.C1", 4.0)]


def test_unrelated_percentages_and_amounts_are_not_taken():
    text = ("固定资产利用率达到100%，合同签订率为100%。"
            "全年授信金额12.5亿元，办理信访件35件。整村授信覆盖率94.72%。")
    assert extract_figures(text) == []


def test_a_rate_written_as_a_fraction():
    rates = [f for f in extract_figures("预算资金支出率为0.9972。") if f.item == "execution_rate"]
    assert [(f.value, f.written) for f in rates] == [(0.9972, "0.9972")]


def test_empty_text_has_no_figures():
    assert extract_figures("") == []
    assert extract_figures("\n \n") == []


# ---------------------------------------------------------------- other findings

def test_missing_and_unmatched_report_findings():
    missing = missing_report_finding()
    assert (missing.severity, missing.rule, missing.location) == (WARNING, "report.missing", "自评报告")
    assert "自评报告" in missing.message
    unmatched = unmatched_report_finding("2024/情况说明.docx")
    assert (unmatched.severity, unmatched.rule) == (WARNING, "report.unmatched")
    assert "2024/情况说明.docx" in unmatched.message
    tied = unmatched.at(file="2024/情况说明.docx", year=2024)
    assert tied.file == "2024/情况说明.docx" and tied.year == 2024


def test_a_paragraph_wrapped_mid_sentence_is_read_as_one():
    # text copied out of a PDF: lines end where the page did, with blank lines between
    text = """\
（三）预算执行
本年度财政下达预算数共计5,632,100.00元，全年实际支出5,480,215.40元，资金支出率为97.

30%，较上年有所提高。项目支出方面，因部分采购项目延至次年实施，结转

和结余151,884.60元。

（四）运行成本
本年“三公”经费年初预算安排80,000.00元，全年实际支出62,410.00元，控制率为78.01%，未超
预算，自评得分1分。
"""
    figures = {f.item: f for f in extract_figures(text)}
    assert figures["execution_rate"].value == pytest.approx(0.9730)
    assert figures["execution_rate"].written == "97.30%"
    assert figures["execution_rate"].paragraph == 2   # the line the sentence starts on
    assert figures["r16"].value == 151884.60
    assert figures["r12"].value == 5632100.00
    assert figures["r13"].value == 5480215.40
    assert figures["r19"].value == 80000.00 and figures["r20"].value == 62410.00
    assert figures["score.B9"].value == 1.0
    assert figures["score.B9"].sentence.endswith("未超预算,自评得分1分")
