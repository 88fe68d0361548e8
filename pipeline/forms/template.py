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
from pipeline.scoring.targets import TARGET_RULES
from schemas.form import (
    DATA_LINES, GRADES, SHEET_DATA, SHEET_INFO, SHEET_SCORES, SHEET_TARGETS, TARGET_CATEGORIES,
    TARGET_DIRECTIONS, TARGET_KINDS, UNIT_TYPES,
)

INSTRUCTIONS_SHEET = "填表说明"
TARGET_BLANK_ROWS = 20  # rows with validation on the blank 绩效目标表
DIRECTION_CHOICES = tuple(dict.fromkeys(TARGET_DIRECTIONS.values()))  # ≥ ≤ = 定性


def target_codes(framework: Framework) -> str:
    """The indicators the 绩效目标表 checks, e.g. A1、A2."""
    return "、".join(i.code for i in framework.indicators if i.rule in TARGET_RULES)


def target_notes(framework: Framework) -> list[str]:
    """Lines above the 绩效目标表 header: how to fill it in, with an example row in words."""
    values = "、".join(framework.qualitative) or "达成、基本达成、部分达成、未达成"
    codes = target_codes(framework)
    need = {"required": "本年度必报",
            "optional": f"本年度选报，未填报的{codes}按自评得分计、不予复核" if codes else "本年度选报"}.get(
        framework.targets_sheet, "")
    return [
        f"填表说明：按预算编制时申报的部门整体绩效目标逐项填写年度指标值和实际完成值{('（' + need + '）') if need else ''}。",
        "指标方向填≥（不低于）、≤（不高于）、=（等于）或定性；定量指标的年度指标值和实际完成值填数字，百分数可填95或95%，计量单位填%。",
        f"定性指标的实际完成值填{values}之一；权重可不填（各行等权），填写的须大于0；未完全完成的目标须填写偏差原因。",
        "示例：产出指标 | 数量指标 | 督办事项办结率 | ≥ | 95% | % | 96.5 | 20 | （已完成可不填）",
    ]


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
    ] + ([f"{'十二' if framework.formula_indicators() else '十一'}、绩效目标表：逐项填写部门整体绩效目标的年度指标值和实际完成值，"
          f"财政局据此复核{target_codes(framework)}；填写方法见该表表头上方的说明。"] if framework.targets_sheet != "none" else [])


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


def _add_target_validations(workbook: xlsxwriter.Workbook, plan: FormPlan, framework: Framework) -> None:
    layout = plan.layout
    if SHEET_TARGETS not in layout.sheet_names:
        return
    sheet = {ws.get_name(): ws for ws in workbook.worksheets()}[layout.sheet_names[SHEET_TARGETS]]
    rows = sorted({i for i, _ in layout.target_cells})
    if not rows:
        return

    def column(key: str) -> str:
        return f"{layout.target_cells[(rows[0], key)].address}:{layout.target_cells[(rows[-1], key)].address}"

    qualitative = "、".join(framework.qualitative)
    sheet.data_validation(column("kind"), {
        "validate": "list", "source": list(TARGET_KINDS),
        "error_message": "一级指标只能填写：" + "、".join(TARGET_KINDS) + "。"})
    sheet.data_validation(column("category"), {
        "validate": "list", "source": list(TARGET_CATEGORIES), "error_type": "warning",
        "error_message": "二级指标一般为：" + "、".join(TARGET_CATEGORIES) + "。"})
    sheet.data_validation(column("direction"), {
        "validate": "list", "source": list(DIRECTION_CHOICES),
        "input_title": "指标方向", "input_message": "≥ 不低于；≤ 不高于；= 等于；定性 无法量化",
        "error_title": "指标方向", "error_message": "指标方向只能填写：≥、≤、=、定性。"})
    sheet.data_validation(column("actual"), {
        "validate": "any", "input_title": "实际完成值",
        "input_message": f"定量指标填数字（如96.5或96.5%）；定性指标填{qualitative}之一"})
    sheet.data_validation(column("weight"), {
        "validate": "decimal", "criteria": ">", "value": 0,
        "error_title": "权重", "error_message": "权重须为大于0的数字；各行都不填则按等权计算。"})


def write_template(year: int, path: Path, frameworks_dir: Path | None = None) -> Path:
    """Write the blank 部门整体支出绩效自评表 for ``year`` (its framework from ``frameworks_dir``,
    else the configured folder) to ``path``; returns the path."""
    framework = load_framework(year, frameworks_dir)
    indicators = framework.indicators
    with_targets = framework.targets_sheet != "none"
    plan = plan_form(info={"评价年度": year}, indicators=indicators, framework_year=year,
                     targets=[{}] * TARGET_BLANK_ROWS if with_targets else None,
                     target_notes=target_notes(framework) if with_targets else ())
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
    _add_target_validations(workbook, plan, framework)
    workbook.set_properties({"title": f"{year}年度部门整体支出绩效自评表", "created": plan.created})
    workbook.close()
    return path
