"""The 导出材料 page: the same files as `make report`, offered for download."""

from __future__ import annotations

from datetime import date
import io
import json
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ui

from pipeline.outputs.ranking_book import SHEETS

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
PAGE = "views/exports.py"
YEAR = 2024
TIMEOUT = 90


@pytest.fixture
def offered(monkeypatch) -> dict:
    """label → what the page's download button delivers when clicked (audited, as served)."""
    taken: dict = {}
    labels: list[str] = []
    real_button, real_download = ui.audited_download_button, ui.audited_download

    def spy_button(label, content, **options):
        labels.append(label)
        return real_button(label, content, **options)

    def spy_download(content, **options):
        taken[labels[-1]] = deliver = real_download(content, **options)
        return deliver

    monkeypatch.setattr(ui, "audited_download_button", spy_button)
    monkeypatch.setattr(ui, "audited_download", spy_download)
    return taken


def test_exports_page_offers_the_years_files(sample_warehouse, monkeypatch, offered, query, tmp_path):
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    audit = tmp_path / "downloads.jsonl"
    monkeypatch.setenv("PERF_AUDIT_LOG", str(audit))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params["year"] = str(YEAR)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(f"导出材料 · {YEAR} 年度" in t.value for t in app.title)
    assert not app.get("download_button")  # nothing is built until asked for

    app.button(key="exports_prepare").click().run()
    assert not app.exception, [e.value for e in app.exception]
    book = openpyxl.load_workbook(io.BytesIO(offered["下载汇总表（Excel）"]()))
    assert book.sheetnames == list(SHEETS)
    # the same 问题清单 as `make report`: superseded files' findings apart, as history
    from pipeline.outputs import ranking_book
    from pipeline.outputs.load import read_year

    expected = openpyxl.load_workbook(io.BytesIO(ranking_book.year_workbook(read_year(sample_warehouse, YEAR))))
    assert [r[1:] for r in book["问题清单"].iter_rows(min_row=2, values_only=True)] == \
        [r[1:] for r in expected["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert any(r[1] == "历史记录" for r in book["问题清单"].iter_rows(min_row=3, values_only=True))

    resubmit = {name for (name,) in query(sample_warehouse, "SELECT unit_name FROM submission_status "
                                          "WHERE year = ? AND must_resubmit", YEAR)}
    zipped = next(content for label, content in offered.items() if label.startswith("下载全部通知"))
    with zipfile.ZipFile(io.BytesIO(zipped())) as archive:
        names = archive.namelist()
        assert {u for u in resubmit if any(u in n for n in names)} == resubmit
        first = docx.Document(io.BytesIO(archive.read(sorted(names)[0])))
    assert "退回修改通知" in "".join(p.text for p in first.paragraphs)
    assert len([b for b in app.get("download_button") if b.proto.label == "下载"]) == len(resubmit)

    app.button(key="exports_make_report").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    report = docx.Document(io.BytesIO(offered["下载报告（Word）"]()))
    assert any("全县部门整体支出绩效自评情况" in p.text for p in report.paragraphs)
    assert len(report.inline_shapes) >= 5
    assert offered["下载报告（PDF）"]().startswith(b"%PDF")
    # the same words as `make report`, its 退回修改与整改 and 绩效目标 sections included
    from pipeline.outputs import summary

    written = "\n".join(p.text for p in report.paragraphs)
    expected = summary.summary_content(read_year(sample_warehouse, YEAR), date.today())
    words = [b.text for b in expected.blocks if isinstance(b, (summary.Heading, summary.Paragraph))]
    assert [w for w in words if w not in written] == []
    tables = [json.loads(line)["table"] for line in audit.read_text(encoding="utf-8").splitlines()]
    assert tables == ["汇总表", "退回修改通知", "汇总报告", "汇总报告"]  # every file taken is recorded
