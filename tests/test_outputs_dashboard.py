"""The 导出材料 page: the same files as `make report`, offered for download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from pipeline.outputs.workbook import SHEETS

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
PAGE = "views/exports.py"
YEAR = 2024
TIMEOUT = 90


@pytest.fixture
def served_files(monkeypatch) -> list:
    """The media storage AppTest serves downloads from, kept so the test can read the bytes back."""
    storages = []

    class KeptStorage(app_test_module.MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            storages.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", KeptStorage)
    return storages


def _download(storages: list, button) -> bytes:
    name = button.proto.url.rsplit("/", 1)[-1]
    for storage in reversed(storages):
        try:
            return storage.get_file(name).content
        except Exception:
            continue
    raise AssertionError(f"{name} was not served")


def test_exports_page_offers_the_years_files(sample_warehouse, monkeypatch, served_files, query):
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params["year"] = str(YEAR)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(f"导出材料 · {YEAR} 年度" in t.value for t in app.title)
    assert not app.get("download_button")  # nothing is built until asked for

    app.button(key="exports_prepare").click().run()
    assert not app.exception, [e.value for e in app.exception]
    buttons = {b.proto.label: b for b in app.get("download_button")}
    book = openpyxl.load_workbook(io.BytesIO(_download(served_files, buttons["下载汇总表（Excel）"])))
    assert book.sheetnames == list(SHEETS)

    resubmit = {name for (name,) in query(sample_warehouse, "SELECT unit_name FROM submission_status "
                                          "WHERE year = ? AND must_resubmit", YEAR)}
    zipped = next(b for label, b in buttons.items() if label.startswith("下载全部通知"))
    with zipfile.ZipFile(io.BytesIO(_download(served_files, zipped))) as archive:
        names = archive.namelist()
        assert {u for u in resubmit if any(u in n for n in names)} == resubmit
        first = docx.Document(io.BytesIO(archive.read(sorted(names)[0])))
    assert "退回修改通知" in "".join(p.text for p in first.paragraphs)
    assert len([b for b in app.get("download_button") if b.proto.label == "下载"]) == len(resubmit)

    app.button(key="exports_make_report").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    buttons = {b.proto.label: b for b in app.get("download_button")}
    report = docx.Document(io.BytesIO(_download(served_files, buttons["下载报告（Word）"])))
    assert any("全县部门整体支出绩效自评情况" in p.text for p in report.paragraphs)
    assert len(report.inline_shapes) >= 5
    assert _download(served_files, buttons["下载报告（PDF）"]).startswith(b"%PDF")
