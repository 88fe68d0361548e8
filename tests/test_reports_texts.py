"""Report texts written for the tests, in the style a budget unit uses.

FULL_REPORT states every figure of the reference unit (contract section 7) once or
twice, in 元, and claims 100 % execution in one paragraph while computing 99.72 % in
another. WANYUAN_REPORT is another unit's shorter report in 万元 with other numbering and
several sections missing.
"""

from __future__ import annotations

REFERENCE_UNIT = "遂溪县人民政府办公室"

FULL_REPORT = """\
部门整体支出绩效自评报告

评价年度：２０２４ 年度
评价单位（公章）：遂溪县人民政府办公室本级
填报日期：2025 年 7 月 28 日

按照县财政局关于开展上一年度财政资金绩效自评的通知，本单位对全年整体支出进行了自查，现将情况报告如下。

一、单位概况
（一）机构与人员。本单位设13个内设机构，核定编制57名，在职51人，退休50人。
（二）收支概况
1. 收入
本年度年初收入预算数为10850997.08 元，其中：一般公共预算财政拨款收入9,850,997.08元，政府性基金预算财政拨款收入1000000.00元。全年收入决算数为8397909.75元，其中：一般公共预算财政拨款收入8397200.18元，政府性基金预算财政拨款收入0元，其他收入709.57元；另有上年结转和结余6038.13元。
2. 支出
年初支出预算数为10850997.08元，其中：基本支出8171282.08元，项目支出2679715.00元。本年支出决算数为８３７４０３６．７５元，其中：基本支出7034584.75元，项目支出1339452.00元；年末结转和结余29911.13元。

二、自评结论
本单位各项经费均按计划使用，财政拨款资金整体支出完成率达到100%，年度目标全部实现。经综合评定，本单位自评分数为98分，自评等级为优秀。

三、指标自评情况
（一）履职效能
1. 绩效目标合理性与可衡量性：年度目标与职能相符，指标量化清楚，自评得分20分。
2. 效益指标完成情况：办文办会、督查督办、应急值守等任务均按期完成，自评得分20分。
3. 部门预算资金支出率：本年财政下达预算数8397200.18元，实际支出8374036.75元，支出率为8374036.75÷8397200.18×100%=99.72%，自评得分10分。
（二）管理效率
1. 新增项目事前绩效评估：全年无新增项目，自评得分2分。
2. 预算编制约束性：年中追加公务用车购置预算一笔，扣1分，自评得分3分。
3. 财务管理合规性：会计核算规范，未发现违规支出，自评得分3分。
4. 信息公开：预决算及三公经费信息均按时在政府网站公开，自评得分3分。
5. 绩效管理制度建设与执行：已制定预算绩效管理办法并按要求申报目标，自评得分15分。
6. 采购管理：采购合同未在两个工作日内备案，扣1分，自评得分9分。
7. 资产管理：资产账实相符，年终盘点无差异，自评得分10分。
8. 经济成本控制：公用经费预算安排259000.00元，全年实际支出171086.57元，公用经费控制率为66.06%，自评得分2分。
9. 三公经费控制率：三公经费年初预算340000.00元，实际支出256929.66元，控制率75.57%，自评得分1分。

四、存在问题及改进措施
个别项目资金下达后执行进度偏慢，下一步将加强执行监控。
"""

# Contract section 7, 元.
SECTION7_AMOUNTS = {
    1: 10850997.08, 2: 9850997.08, 3: 1000000.00, 4: 8397909.75, 5: 8397200.18,
    6: 0.00, 7: 709.57, 8: 6038.13, 9: 10850997.08, 10: 8171282.08, 11: 2679715.00,
    12: 8397200.18, 13: 8374036.75, 14: 7034584.75, 15: 1339452.00, 16: 29911.13,
    17: 259000.00, 18: 171086.57, 19: 340000.00, 20: 256929.66,
}
SECTION7_SCORES = {"A1": 20, "A2": 20, "A3": 10, "B1": 2, "B2": 3, "B3": 3, "B4": 3,
                   "B5": 15, "B6": 9, "B7": 10, "B8": 2, "B9": 1}


def section7_tables() -> dict[str, float | str | None]:
    """What the reference unit's 数据表, 评分表 and 基本信息 say, keyed like the report items."""
    r = SECTION7_AMOUNTS
    tables: dict[str, float | str | None] = {f"r{line}": value for line, value in r.items()}
    tables.update({"r21": None, "r22": None, "r23": None, "r24": 1.0, "r25": 0.0})
    tables["execution_rate"] = r[13] / r[12]
    tables["public_control_rate"] = r[18] / r[17]
    tables["sangong_control_rate"] = r[20] / r[19]
    tables["self_score"] = 98.0
    tables["self_grade"] = "优"
    tables["year"] = 2024
    tables["unit_name"] = REFERENCE_UNIT
    tables.update({f"score.{code}": float(v) for code, v in SECTION7_SCORES.items()})
    return tables


WANYUAN_UNIT = "遂溪县农业农村局"

WANYUAN_REPORT = """\
遂溪县农业农村局2023年度部门整体支出绩效自评报告

第一部分 部门概况
本局为县政府工作部门，主要负责农业农村发展规划和政策落实。

第二部分 预算执行情况
1、支出情况
（1）年初预算数1,280.50万元，其中基本支出860.25万元，项目支出420.25万元。
（2）全年财政下达预算1,302.66万元，支出决算数1,250.1万元，其中基本支出842.3万元、项目支出407.8万元，预算执行率为95.97%。
2、三公经费
年初预算12.00万元，全年实际支出9.85万元，控制率82.08%。

第三部分 自评结论
经自评，总得分93.5分，自评等级为“优”。
⑴部门预算资金支出率：得分9.5分。
⑵三公经费控制率：得分1分。

遂溪县农业农村局
2024年7月30日
"""


def wanyuan_tables() -> dict[str, float | str | None]:
    """The 农业农村局's tables, in 元: execution 95.96 % (the report says 95.97 %) and
    an A3 self-score of 9.6 (the report says 9.5); every other figure agrees."""
    r = {9: 12805012.30, 10: 8602500.00, 11: 4202512.30, 12: 13026600.00,
         13: 12500800.00, 14: 8423000.00, 15: 4077800.00, 19: 120000.00, 20: 98500.00}
    tables: dict[str, float | str | None] = {f"r{line}": value for line, value in r.items()}
    tables["execution_rate"] = r[13] / r[12]
    tables["sangong_control_rate"] = r[20] / r[19]
    tables["public_control_rate"] = None
    tables["self_score"] = 93.5
    tables["self_grade"] = "优"
    tables["score.A3"] = 9.6
    tables["score.B9"] = 1.0
    tables["year"] = 2023
    tables["unit_name"] = WANYUAN_UNIT
    return tables


def test_the_section7_tables_hold_the_contract_rates():
    tables = section7_tables()
    assert round(tables["execution_rate"] * 100, 2) == 99.72
    assert round(tables["public_control_rate"] * 100, 2) == 66.06
    assert round(tables["sangong_control_rate"] * 100, 2) == 75.57
    assert sum(SECTION7_SCORES.values()) == tables["self_score"]
