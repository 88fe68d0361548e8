"""The sample opens in a spreadsheet program (LibreOffice Calc) with its Chinese intact."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from sample_county.county import REFERENCE_FILE_2024
from tests.conftest import ROOT

SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_reference_workbook_renders_in_calc_with_chinese(tmp_path: Path):
    source = tmp_path / "reference.xlsx"
    shutil.copy(ROOT / "raw" / REFERENCE_FILE_2024, source)
    done = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                          capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "reference.pdf"
    assert pdf.exists(), done.stderr
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in ("遂溪县人民政府办公室", "年初收入预算数", "10,850,997.08", "8,374,036.75",
                     "部门预算资金支出率", "采购合同未在两个工作日内备案"):
        assert expected in text.replace(" ", ""), expected
