"""HTML to PDF with the machine's headless Chromium (the same browser kaleido draws with).

Chromium lays out the Chinese text with the installed CJK fonts and embeds them, so the
PDF reads the same on a machine without them.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from .charts import ChartsUnavailable, find_browser

PRINT_TIMEOUT_SECONDS = 120


class PdfUnavailable(Exception):
    """The browser could not print the page."""


def html_to_pdf(page: str) -> bytes:
    try:
        browser = find_browser()
    except ChartsUnavailable as error:
        raise PdfUnavailable(str(error)) from error
    with tempfile.TemporaryDirectory(prefix="perf-pdf-") as work:
        source = Path(work) / "report.html"
        target = Path(work) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--no-pdf-header-footer", f"--user-data-dir={Path(work) / 'profile'}",
                   f"--print-to-pdf={target}", source.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Chromium refuses to start its sandbox as root (CI runs as root).
            command.insert(1, "--no-sandbox")
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as error:
            raise PdfUnavailable(f"Chromium 打印 PDF 超时（{PRINT_TIMEOUT_SECONDS} 秒）") from error
        if not target.exists() or target.stat().st_size == 0:
            tail = (result.stderr or "").strip().splitlines()[-3:]
            raise PdfUnavailable(f"Chromium 未能生成 PDF（退出码 {result.returncode}）：{' / '.join(tail)}")
        return target.read_bytes()
