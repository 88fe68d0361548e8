"""The dashboard's 复核 page: bureau accounts record through the one checked function, unit
accounts neither see the page nor read its data; in Chromium a score recorded on the page
counts after the rebuild started from the page."""

from __future__ import annotations

import io
import urllib.parse
from datetime import date
from pathlib import Path

import docx
import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, data
from pipeline import ledger
from pipeline.outputs import working_paper
from tests import dashboard_server
from tests.conftest import run_pipeline

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
YEAR = 2024
TIMEOUT = 60
PASSWORD = "复核-口令-2024"


def _fetch(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _top_of_sample(db: Path) -> str:
    return _fetch(db, "SELECT unit_name FROM review_sample WHERE year = ? ORDER BY risk DESC, unit_name LIMIT 1",
                  YEAR)[0][0]


@pytest.fixture
def setting(sample_warehouse: Path, monkeypatch, tmp_path) -> dict:
    book = tmp_path / "ledger" / "bureau.sqlite"
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    monkeypatch.setenv("PERF_LEDGER", str(book))
    monkeypatch.setenv("PERF_RAW", str(ROOT / "raw"))
    monkeypatch.setenv("PERF_AUDIT_LOG", str(tmp_path / "audit" / "downloads.jsonl"))
    monkeypatch.delenv("PERF_AUTH", raising=False)
    return {"db": sample_warehouse, "ledger": book}


def _review_page(unit: str | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params["year"] = str(YEAR)
    if unit:
        app.query_params["review_unit"] = unit
    app.run()
    app.switch_page("views/review.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_past_the_long_list_limit_the_unit_list_holds_the_sample_and_what_is_searched(setting, monkeypatch):
    """A province's units are not all listed: the sample, the unit the link names and the units found."""
    from pipeline import settings

    monkeypatch.setattr(settings, "TABLE_ROWS_IN_FULL", 5)
    monkeypatch.setattr(settings, "TABLE_PAGE_ROWS", 3)
    sampled = {n for (n,) in _fetch(setting["db"], "SELECT unit_name FROM review_sample WHERE year = ?", YEAR)}
    others = sorted({n for (n,) in _fetch(setting["db"], "SELECT unit_name FROM unit_scores WHERE year = ?", YEAR)}
                    - sampled)
    assert len(others) > 5
    linked = others[-1]
    app = _review_page(linked)
    listed = app.selectbox(key="review_unit").options
    assert app.selectbox(key="review_unit").value == linked  # the link still opens its unit
    assert set(listed) - {linked} <= {f"{n}（抽查，风险 {r:.2f}）" for n, r in _fetch(
        setting["db"], "SELECT unit_name, risk FROM review_sample WHERE year = ?", YEAR)}
    app.text_input(key="review_find").input("镇").run()
    assert not app.exception
    found = [n for n in app.selectbox(key="review_unit").options if "抽查" not in n and n != linked]
    assert found == [n for n in others if "镇" in n and n != linked][:3]


def test_the_page_starts_from_the_sample_by_risk(setting):
    app = _review_page()
    sample = next(e.value for e in app.dataframe if list(e.value.columns[:3]) == ["单位名称", "单位编码", "风险分"])
    expected = _fetch(setting["db"], "SELECT unit_name, risk FROM review_sample WHERE year = ? "
                                     "ORDER BY risk DESC, unit_name", YEAR)
    names = [urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["unit"][0] for link in sample["单位名称"]]  # each name links to 单位详情
    assert list(zip(names, sample["风险分"])) == expected
    assert not any("规则复核得分" in e.value.columns for e in app.dataframe)  # one unit's worksheet is a click away
    app.button_group(key="review_view").set_value("单位复核").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="review_unit").value == expected[0][0]
    comparison = next(e.value for e in app.dataframe if "规则复核得分" in e.value.columns)
    assert {"自评得分", "规则复核得分", "财政局复核得分", "采用"} <= set(comparison.columns)


def _submit(app: AppTest, code: str, score: str, reason: str, withdraw: bool = False) -> AppTest:
    app.selectbox(key="review_code").set_value(code)
    if withdraw:
        app.radio(key="review_action").set_value("撤回复核得分")
    app.text_input(key="review_score").input(score)
    app.text_area(key="review_reason").input(reason)
    app.button(key="FormSubmitter:review_form-记录").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_recording_on_the_page_goes_through_the_checked_function(setting):
    unit = _top_of_sample(setting["db"])
    app = _submit(_review_page(unit), "B6", "12", "抽查采购合同")
    assert any("超出范围" in e.value for e in app.error)
    assert not setting["ledger"].exists()

    app = _submit(app, "B6", "7.5", "抽查采购合同：两份逾期备案")
    assert any("已记录" in s.value for s in app.success)
    [decision] = ledger.all_decisions(setting["ledger"])
    assert (decision.unit_name, decision.code, decision.score) == (unit, "B6", 7.5)
    assert decision.reason == "抽查采购合同：两份逾期备案"
    pending = next(e.value for e in app.dataframe if "状态" in e.value.columns)
    assert list(pending["状态"]) == ["待重新构建"]


def test_the_working_paper_of_a_sampled_unit(setting):
    unit = _top_of_sample(setting["db"])
    app = _review_page(unit)
    button = next(b for b in app.get("download_button") if "复核工作底稿" in b.proto.label)
    assert button.proto.label == "下载复核工作底稿（Word）"
    [paper] = [p for p in working_paper.read_papers(setting["db"], YEAR) if p.unit_name == unit]
    document = docx.Document(io.BytesIO(working_paper.paper_docx(paper, date(2025, 8, 1))))
    text = "\n".join(p.text for p in document.paragraphs)
    assert unit in text and "风险分" in text and "复核人：" in text
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert any(c.startswith("数据表!C") for c in cells)
    assert {"自评得分", "规则复核得分", "财政局复核得分"} <= cells


def test_a_unit_account_neither_sees_the_page_nor_reads_its_data(setting, tmp_path, monkeypatch):
    db = setting["db"]
    own = _top_of_sample(db)
    users = tmp_path / "users.toml"
    auth.write_users(users, {"wang": auth.Account("wang", "unit", own, auth.hash_password(PASSWORD)),
                             "zhao": auth.Account("zhao", "bureau", None, auth.hash_password(PASSWORD))})
    ledger.append_decision(setting["ledger"], ledger.Decision(YEAR, own, "B6", 5.0, "抽查", "zhao", "2025-08-01T09:00:00"))
    monkeypatch.setenv("PERF_AUTH", "users")
    monkeypatch.setenv("PERF_USERS_FILE", str(users))

    unit_viewer = auth.Viewer("wang", "unit", own)
    assert data.review_sample(YEAR, viewer=unit_viewer).empty
    assert data.ledger_decisions(YEAR, viewer=unit_viewer).empty
    assert data.query("SELECT * FROM review_sample", viewer=unit_viewer).empty
    bureau = auth.Viewer("zhao", "bureau")
    assert own in set(data.review_sample(YEAR, viewer=bureau)["unit_name"])
    assert len(data.ledger_decisions(YEAR, viewer=bureau)) == 1

    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params["year"] = str(YEAR)
    app.run()
    app.text_input(key="login_name").input("wang")
    app.text_input(key="login_password").input(PASSWORD)
    app.button[0].click().run()
    assert not app.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("views/review.py")

    bureau_app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    bureau_app.query_params["year"] = str(YEAR)
    bureau_app.run()
    bureau_app.text_input(key="login_name").input("zhao")
    bureau_app.text_input(key="login_password").input(PASSWORD)
    bureau_app.button[0].click().run()
    bureau_app.switch_page("views/review.py").run()
    assert not bureau_app.exception
    assert any("复核 ·" in t.value for t in bureau_app.title)
    bureau_app.button_group(key="review_view").set_value("单位复核").run()
    assert bureau_app.text_input(key="review_officer").disabled  # signed in: the officer is the account


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
def test_in_the_browser_a_recorded_score_counts_after_the_rebuild(tmp_path):
    from playwright.sync_api import sync_playwright

    db = tmp_path / "wh" / "performance.duckdb"
    book = tmp_path / "ledger" / "bureau.sqlite"
    run_pipeline(ROOT / "raw", db, "--ledger", str(book))
    unit = _top_of_sample(db)
    [(before,)] = _fetch(db, "SELECT review_score FROM unit_scores WHERE unit_name = ? AND year = ?", unit, YEAR)
    [(rule_a1,)] = _fetch(db, "SELECT review_score FROM indicator_scores WHERE unit_name = ? AND year = ? AND code = 'A1'",
                          unit, YEAR)
    base, server = dashboard_server.start({"PERF_DB": str(db), "PERF_LEDGER": str(book), "PERF_RAW": str(ROOT / "raw"),
                                           "PERF_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "PERF_AUTH": "none"})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
            query = urllib.parse.urlencode({"year": YEAR, "review_unit": unit})
            page.goto(f"{base}/review?{query}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=f"复核 · {YEAR} 年度").first.wait_for(timeout=60_000)
            page.get_by_text("财政局改动的指标").first.wait_for(timeout=60_000)
            page.get_by_role("textbox", name="复核得分", exact=True).fill("12.5")
            page.get_by_role("textbox", name="理由", exact=True).fill("绩效目标未细化到可衡量的指标")
            page.get_by_role("button", name="记录", exact=True).click()
            page.get_by_text("已记录").first.wait_for(timeout=60_000)
            page.get_by_text("本年度共 1 项复核得分已记录").first.wait_for(timeout=60_000)
            page.get_by_role("button", name="重新构建数据仓库").click()
            page.get_by_text("已重新构建数据仓库").first.wait_for(timeout=300_000)
            page.get_by_text("复核记录中的得分都已计入已发布的数据").first.wait_for(timeout=60_000)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="财政局改动的指标")
            assert "1 项" in metric.inner_text()
            browser.close()
    finally:
        dashboard_server.stop(server)
    assert _fetch(db, "SELECT review_score, review_source, reason FROM indicator_scores "
                      "WHERE unit_name = ? AND year = ? AND code = 'A1'", unit, YEAR) == [
        (12.5, "officer", "绩效目标未细化到可衡量的指标")]
    [(after,)] = _fetch(db, "SELECT review_score FROM unit_scores WHERE unit_name = ? AND year = ?", unit, YEAR)
    assert after == pytest.approx(before - rule_a1 + 12.5)
