"""Command line: `python -m pipeline.outputs --year 2024` (make report YEAR=2024)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path

from pipeline import settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD：{text}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.outputs",
                                     description="生成当年度的汇总表、退回修改通知和自评情况报告")
    parser.add_argument("--year", type=int, required=True, help="评价年度")
    parser.add_argument("--db", type=Path, default=settings.db_path(), help="数据仓库（默认 PERF_DB）")
    parser.add_argument("--out", type=Path, default=settings.out_dir(), help="输出文件夹（默认 PERF_OUT）")
    parser.add_argument("--issued-on", type=_day, default=None, help="通知和报告的落款日期，默认今天")
    parser.add_argument("--resubmit-by", type=_day, default=None,
                        help="重新报送截止日期；默认落款日期后第 10 个工作日（周一至周五，不含节假日调整）")
    parser.add_argument("--no-pdf", action="store_true", help="只生成 .docx 报告，不打印 PDF")
    parser.add_argument("--ledger", type=Path, default=settings.ledger_path(),
                        help="台账（默认 PERF_LEDGER）：记入发出的退回修改通知并据此确定第几次退回；工作底稿列出尚未生效的复核得分")
    args = parser.parse_args(argv)

    from pipeline import ledger

    from .build import build_from_warehouse, write
    from .notices import record
    from .charts import ChartsUnavailable
    from .load import NoSuchYear
    from .pdf import PdfUnavailable

    issued_on = args.issued_on or date.today()
    try:
        outputs = build_from_warehouse(args.db, args.year, issued_on=issued_on, resubmit_by=args.resubmit_by,
                                       pdf=not args.no_pdf, sent=ledger.all_notices(args.ledger), ledger=args.ledger)
        paths = write(outputs, args.out)
        recorded = record(args.ledger, outputs.notices, outputs.deadline)
    except (OSError, sqlite3.Error, NoSuchYear, ChartsUnavailable, PdfUnavailable, ValueError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    folder = Path(args.out) / str(args.year)
    print(f"{args.year} 年度材料已生成：{folder}")
    print(f"  汇总表、报告和图表：{len(paths) - len(outputs.notices) - len(outputs.papers)} 个文件")
    print(f"  退回修改通知：{len(outputs.notices)} 份，重新报送截止 {outputs.deadline.resubmit_by.isoformat()}")
    print(f"  复核工作底稿：{len(outputs.papers)} 份（抽查样本）")
    for notice in outputs.notices:
        again = f"（第 {notice.round} 次，已改正 {notice.fixed} 项）" if notice.round > 1 else ""
        print(f"    {notice.unit_name}{again}：须改正 {notice.must_fix} 项，供参考 {notice.for_reference} 项")
    print(f"  已记入台账 {args.ledger}：{recorded} 份通知")
    return 0


if __name__ == "__main__":
    sys.exit(main())
