"""部门整体支出绩效自评 比较看板 — the entrypoint: `make dashboard` (streamlit run dashboard/app.py).

It reads the warehouse named by PERF_DB (default warehouse/performance.duckdb), draws
the shared filters and hands over to the page chosen in the navigation.
"""

from __future__ import annotations

import functools
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth, data, filters, ui  # noqa: E402

# Not named pages/: Streamlit would serve a pages/ folder on its own, without this entrypoint,
# to a deep link that arrives before any session has registered the navigation.
PAGES_DIR = Path(__file__).resolve().parent / "views"


@dataclass(frozen=True)
class PageSpec:
    file: str          # under views/
    title: str
    icon: str
    url_path: str
    bureau_only: bool = False  # county-wide materials: a unit account is told why it cannot open them
    # the bureau's own working pages: a unit account is not offered them at all
    hidden_from_units: bool = False

    def __iter__(self):  # (file, title, icon, url_path), as the registry was read before
        return iter((self.file, self.title, self.icon, self.url_path))


# The navigation, in order; a new page is one more line here.
PAGES = [
    PageSpec("overview.py", "总览", ":material/dashboard:", "overview"),
    PageSpec("ranking.py", "排名", ":material/format_list_numbered:", "ranking"),
    PageSpec("execution.py", "预算执行", ":material/account_balance_wallet:", "execution"),
    PageSpec("sangong.py", "三公经费", ":material/directions_car:", "sangong"),
    PageSpec("grades.py", "等级与得分", ":material/grading:", "grades"),
    PageSpec("targets.py", "绩效目标", ":material/flag:", "targets"),
    PageSpec("unit_detail.py", "单位详情", ":material/apartment:", "unit"),
    PageSpec("quality.py", "数据质量", ":material/fact_check:", "quality"),
    PageSpec("rectification.py", "退回与整改", ":material/assignment_return:", "rectification"),
    PageSpec("exports.py", "导出材料", ":material/download:", "exports", bureau_only=True),
    # the sample and the ledger are the bureau's own: a unit never learns whether it was drawn
    PageSpec("review.py", "复核", ":material/rule:", "review", bureau_only=True, hidden_from_units=True),
]

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


def _bureau_only(spec: PageSpec) -> None:
    st.title(spec.title)
    st.info(f"“{spec.title}”是全县的材料，只提供给财政局账户。您的账户只能查看本单位的数据；"
            "如需这些材料，请联系县财政局绩效股。")


def _pages(specs, viewer: auth.Viewer | None = None) -> list:
    pages = []
    for index, spec in enumerate(specs):
        if spec.bureau_only and viewer is not None and not viewer.sees_everything:
            target = functools.partial(_bureau_only, spec)
        else:
            target = PAGES_DIR / spec.file
        pages.append(st.Page(target, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=index == 0))
    return pages


def _requested_page() -> str:
    """The page named in the address (empty for the root)."""
    try:
        path = urllib.parse.urlsplit(st.context.url or "").path
    except Exception:  # noqa: BLE001 - an address we cannot read names no page
        return ""
    return urllib.parse.unquote(path.rstrip("/").rsplit("/", 1)[-1])


def link_notices(chosen: filters.Filters, years: list[int], shown_page: str) -> None:
    """Say plainly when the link asked for a page or a year this dashboard does not have."""
    asked = _requested_page()
    known = {spec.url_path for spec in PAGES}
    if asked and asked not in known and asked != shown_page:
        st.warning(f"链接中的页面“{asked}”不存在，下面显示的是“{shown_page}”。"
                   f"可用的页面：{'、'.join(spec.title for spec in PAGES)}。")
    if chosen.requested_year is not None:
        st.warning(f"链接中的评价年度“{chosen.requested_year}”在数据仓库中没有记录（已有年度："
                   f"{'、'.join(map(str, sorted(years)))}），下面显示的是 {chosen.year} 年度。")


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

    offered = [spec for spec in PAGES if viewer.sees_everything or not spec.hidden_from_units]
    page = st.navigation(_pages(offered, viewer))
    st.session_state[ui.PAGE_KEY] = page.title
    link_notices(st.session_state["filters"], years, page.url_path)
    try:
        page.run()
    except data.WarehouseUnavailable as error:
        warehouse_unavailable(error)


main()
