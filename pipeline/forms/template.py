"""The blank workbook the bureau sends to every unit for one evaluation year.

Same sheets, labels, 行次 and indicator rows as every workbook the project writes
(pipeline.form_writer), plus what helps a unit fill it in correctly: a 填表说明 sheet,
data validation on each 自评得分 (0 to that row's 分值), non-negative amounts, whole
counts, the 合计 as a formula and a list for 自评等级.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from pipeline.forms.writer import (
    FormPlan,
    plan_form,
    render_xlsx,
)
from pipeline.scoring.framework import Framework, describe, grade_rule_words, load_framework
from pipeline.scoring.metrics import METRICS
from schemas.form import DATA_LINES, GRADES, SHEET_DATA, SHEET_INFO, SHEET_SCORES, UNIT_TYPES

INSTRUCTIONS_SHEET = "填表说明"


def _fmt_max(value: float) -> str:
    return f"{value:g}"


def instructions(year: int, framework: Framework) -> list[str]:
    """The 填表说明 lines, in the order a unit reads them."""
    deadline = framework.deadline
    notice = framework.notice
    due = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    return [
        f"{year}年度部门整体支出绩效自评表 填表说明",
        "",
        f"一、本表依据{notice}印发，请于{due}（含当日）前报送县财政局绩效股，逾期报送的将予通报。",
        "二、本工作簿含“基本信息”“数据表”“评分表”三张表，请勿删除、改名或调整表内行列顺序。",
        "三、基本信息表：单位名称须与预算单位名录一致；评价年度填写被评价的年度（四位数字）；填报日期填写实际报送日期。",
        "四、数据表金额单位为元，保留两位小数；如按万元填报，须将表头上方的“金额单位：元”改为“金额单位：万元”。",
        "五、数据表“行次”为表内固定编号，不得修改、增删；第24行（追加预算笔数）和第25行（新增项目数）填写整数，不按万元折算。",
        "六、数据表各行须满足下列勾稽关系（允许误差0.01元）：",
        "    第1行 = 第2行 + 第3行；第4行 = 第5行 + 第6行 + 第7行；第9行 = 第10行 + 第11行；",
        "    第13行 = 第14行 + 第15行；第16行 = 第4行 + 第8行 − 第13行；",
        "    填写第21至23行明细的，第20行 = 第21行 + 第22行 + 第23行。",
        "七、金额为零的请填0，不得填写“见附表”“略”等文字。",
        "八、评分表：自评得分不得超过该项分值；凡自评得分低于分值的，须在“评分说明”栏写明扣分原因。",
        f"九、合计栏自动求和，请勿改写；自评等级按合计得分确定：{grade_rule_words(framework.grades)}。",
        *formula_note(framework),
        f"{'十一' if framework.formula_indicators() else '十'}、自评报告（Word或文本）与本表一并报送，报告中的数据应与数据表、评分表一致。",
    ]


_COUNTS = "零一二三四五六七八九十"


def formula_note(framework: Framework) -> list[str]:
    """The indicators the bureau recomputes, named as the framework names them."""
    formulas = framework.formula_indicators()
    if not formulas:
        return []
    count = _COUNTS[len(formulas)] if len(formulas) < len(_COUNTS) else str(len(formulas))
    uses_info = any(not ref.startswith(("r", "previous.r")) for i in formulas for ref in METRICS[i.metric].inputs)
    source = "数据表和基本信息" if uses_info else "数据表"
    names = "、".join(i.level3 for i in formulas)
    return [f"十、{names}{count}项指标由财政局按{source}复核计分，自评得分应与{source}一致：",
            *(f"    {describe(i)}。" for i in formulas)]


def _add_validations(workbook: xlsxwriter.Workbook, plan: FormPlan, indicators) -> None:
    layout = plan.layout
    sheets = {ws.get_name(): ws for ws in workbook.worksheets()}
    scores = sheets[layout.sheet_names[SHEET_SCORES]]
    for ind in indicators:
        ref = layout.score_cells[ind.code]
        scores.data_validation(ref.address, {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": ind.max_score,
            "input_title": f"{ind.code} 自评得分",
            "input_message": f"分值{_fmt_max(ind.max_score)}分，低于分值须填写评分说明",
            "error_title": "自评得分超出范围",
            "error_message": f"{ind.code}“{ind.level3}”的自评得分应在0至{_fmt_max(ind.max_score)}分之间。",
        })
    first = layout.score_cells[indicators[0].code].address
    last = layout.score_cells[indicators[-1].code].address
    total = layout.total_cell
    scores.write_formula(total.address, f"=SUM({first}:{last})",
                         workbook.add_format({"border": 1, "bold": True}), 0)
    scores.data_validation(layout.grade_cell.address, {
        "validate": "list",
        "source": list(GRADES),
        "error_title": "自评等级",
        "error_message": "自评等级只能填写：优、良、中、差。",
    })

    data = sheets[layout.sheet_names[SHEET_DATA]]
    for line in DATA_LINES:
        ref = layout.data_cells[line.line]
        rule = ({"validate": "integer", "criteria": ">=", "value": 0,
                 "error_message": f"第{line.line}行填写0或正整数。"}
                if line.is_count else
                {"validate": "decimal", "criteria": ">=", "value": 0,
                 "error_message": f"第{line.line}行金额须为不小于0的数字，不得填写文字。"})
        data.data_validation(ref.address, {"error_title": "金额填写错误", **rule})

    info = sheets[layout.sheet_names[SHEET_INFO]]
    info.data_validation(layout.info_cells["单位类型"].address, {
        "validate": "list", "source": list(UNIT_TYPES),
        "error_message": "单位类型只能填写：行政单位、参公事业单位、事业单位、乡镇。",
    })
    info.data_validation(layout.info_cells["评价年度"].address, {
        "validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100,
        "error_message": "评价年度填写四位数字年份，如2024。",
    })
    info.data_validation(layout.info_cells["填报日期"].address, {
        "validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
        "error_message": "填报日期请填写日期，如2025-07-28。",
    })


def write_template(year: int, path: Path, frameworks_dir: Path | None = None) -> Path:
    """Write the blank 部门整体支出绩效自评表 for ``year`` (its framework from ``frameworks_dir``,
    else the configured folder) to ``path``; returns the path."""
    framework = load_framework(year, frameworks_dir)
    indicators = framework.indicators
    plan = plan_form(info={"评价年度": year}, indicators=indicators, framework_year=year)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    notes = workbook.add_worksheet(INSTRUCTIONS_SHEET)
    notes.set_column(0, 0, 110)
    title = workbook.add_format({"bold": True, "font_size": 14})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for row, text in enumerate(instructions(year, framework)):
        notes.write_string(row, 0, text, title if row == 0 else wrap)
    render_xlsx(workbook, plan)
    _add_validations(workbook, plan, indicators)
    workbook.set_properties({"title": f"{year}年度部门整体支出绩效自评表", "created": plan.created})
    workbook.close()
    return path
