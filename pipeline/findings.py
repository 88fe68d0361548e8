"""A finding: one thing wrong (or worth a look) in one submission, at one place."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from pipeline.settings import SHOWN_VALUE_CHARS

FATAL = "fatal"      # the file is quarantined
ERROR = "error"      # loaded, but the unit must correct and resubmit (退回修改)
WARNING = "warning"  # loaded and worth a look
SEVERITIES = (FATAL, ERROR, WARNING)
SEVERITY_LABELS = {FATAL: "致命", ERROR: "错误", WARNING: "提示"}


@dataclass(frozen=True)
class Finding:
    severity: str
    rule: str          # stable id, e.g. "identity.r13", "score.above_max"
    location: str      # "数据表!C14", "评分表 第5行", "基本信息!B6", "文件"
    message: str       # Chinese, what is wrong and what to do
    found: str | None = None
    expected: str | None = None
    file: str | None = None       # path relative to RAW
    unit_name: str | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        # A value quoted back to a unit is cut short: a pasted page would drown the message.
        for name in ("found", "expected"):
            value = getattr(self, name)
            if value is not None and len(value) > SHOWN_VALUE_CHARS:
                object.__setattr__(self, name, clip(value))

    def at(self, *, file: str | None = None, unit_name: str | None = None,
           year: int | None = None) -> "Finding":
        """The same finding, tied to a file / unit / year (kept where already set)."""
        return replace(self, file=self.file or file, unit_name=self.unit_name or unit_name,
                       year=self.year if self.year is not None else year)

    def as_row(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Finding))


def clip(text: str, limit: int = SHOWN_VALUE_CHARS) -> str:
    """Text cut to limit characters, saying how long it was: pasted pages stay readable."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…（共{len(text):,}字，已截断）"


def fmt_amount(value: float | None) -> str | None:
    """An amount in 元 as a finance officer writes it: 8,374,036.75."""
    if value is None:
        return None
    return f"{value:,.2f}"


def fmt_rate(value: float | None) -> str | None:
    """A fraction as a percentage with two decimals: 0.99724 → 99.72%."""
    if value is None:
        return None
    return f"{value * 100:.2f}%"
