"""部门整体支出绩效自评 比较看板 — the entrypoint: `make dashboard` (streamlit run dashboard/app.py).

It reads the warehouse named by PERF_DB (default warehouse/performance.duckdb), draws
the shared filters and hands over to the page chosen in the navigation.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, data, filters, ui  # noqa: E402

# Not named pages/: Streamlit would serve a pages/ folder on its own, without this entrypoint,
# to a deep link that arrives before any session has registered the navigation.
PAGES_DIR = Path(__file__).resolve().parent / "views"
PAGES = (
    ("overview.py", "总览", ":material/dashboard:", "overview"),
    ("ranking.py", "排名", ":material/format_list_numbered:", "ranking"),
    ("execution.py", "预算执行", ":material/account_balance_wallet:", "execution"),
    ("sangong.py", "三公经费", ":material/directions_car:", "sangong"),
    ("grades.py", "等级与得分", ":material/grading:", "grades"),
    ("targets.py", "绩效目标", ":material/flag:", "targets"),
    ("unit_detail.py", "单位详情", ":material/apartment:", "unit"),
    ("quality.py", "数据质量", ":material/fact_check:", "quality"),
    ("rectification.py", "退回与整改", ":material/assignment_return:", "rectification"),
    ("exports.py", "导出材料", ":material/download:", "exports"),
    ("review.py", "复核", ":material/rule:", "review"),
)
# County-wide materials and the bureau's own review: not offered to a unit account (its reads hold only
# its own rows, and it never reads the sample or the ledger).
BUREAU_ONLY_PAGES = ("exports", "review")

st.set_page_config(page_title="部门整体支出绩效自评 比较看板", page_icon=":material/insights:", layout="wide")


def warehouse_unavailable(error: data.WarehouseUnavailable) -> None:
    st.title("部门整体支出绩效自评 比较看板")
    if not error.path.exists():
        st.warning(f"尚未找到数据仓库：`{error.path}`")
        st.markdown(
            "看板只读取流水线发布的数据仓库。请在项目目录下先运行\n\n"
            "```\nmake pipeline\n```\n\n"
            "（校验、入库并评分 `raw/` 下的全部报送材料），完成后刷新本页即可，无需重启看板。\n\n"
            "如数据仓库不在默认位置，请用 `make dashboard DB=<路径>` 指定。"
        )
    else:
        st.error(f"数据仓库暂时无法读取：`{error.path}`")
        st.markdown("请重新运行 `make pipeline` 生成数据仓库，完成后刷新本页。")
        with st.expander("技术信息"):
            st.text(error.reason)


def _pages(entries) -> list:
    return [st.Page(PAGES_DIR / file, title=title, icon=icon, url_path=url_path, default=index == 0)
            for index, (file, title, icon, url_path) in enumerate(entries)]


def main() -> None:
    viewer = auth.require_viewer()  # None: the login form or the reason for refusal is on screen
    if viewer is None:
        # Registered but not run: a colleague's deep link still opens its page after signing in.
        st.navigation(_pages(PAGES), position="hidden")
        return
    try:
        build = data.build_info()
        years = data.years()
        unit_types = data.unit_types()
        departments = data.departments()
    except data.WarehouseUnavailable as error:
        st.navigation([st.Page(functools.partial(warehouse_unavailable, error), title="数据仓库未就绪",
                               url_path="unavailable")], position="hidden").run()
        return
    if not years:
        st.navigation([st.Page(lambda: st.warning("数据仓库中还没有任何年度的报送记录。请检查 raw/ 后重新运行 "
                                                  "`make pipeline`。"), title="尚无数据", url_path="empty")],
                      position="hidden").run()
        return

    st.session_state["filters"] = filters.sidebar(years, unit_types, departments)
    with st.sidebar:
        st.caption(f"数据日期：{ui.build_label(build)}")
        st.caption("金额单位：万元；比率为百分数。")
        auth.sidebar_identity(viewer)

    offered = [entry for entry in PAGES if viewer.sees_everything or entry[3] not in BUREAU_ONLY_PAGES]
    page = st.navigation(_pages(offered))
    st.session_state[ui.PAGE_KEY] = page.title
    try:
        page.run()
    except data.WarehouseUnavailable as error:
        warehouse_unavailable(error)


main()
