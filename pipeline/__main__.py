"""Command line: `python -m pipeline run|rollback|template|docs|review`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from pipeline import settings


def end_at_once(code: int) -> NoReturn:
    """End the process without freeing, one by one, the hundreds of thousands of objects a run
    built (every parse result, finding and row) and tearing down the libraries: about half a
    second of CPU after a 2000-unit run (docs/benchmarks.md). Whatever the run writes is
    closed by then (the warehouse and the cache are with the file system, not in this
    process) and no worker process is left: only the standard streams still hold output."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None, at_once: bool = False) -> int:
    """The command line; with at_once (a process of its own) a finished run ends the process."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="部门整体支出绩效自评 数据处理")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="校验、入库、复核评分（make pipeline）")
    run_cmd.add_argument("--raw", type=Path, default=settings.raw_dir())
    run_cmd.add_argument("--db", type=Path, default=settings.db_path())
    run_cmd.add_argument("--no-progress", action="store_true")
    run_cmd.add_argument("--force", action="store_true", help="即使输入未变化也重新构建")
    run_cmd.add_argument("--ledger", type=Path, default=settings.ledger_path(),
                         help="财政局复核记录（默认 PERF_LEDGER）")
    rollback_cmd = commands.add_parser("rollback", help="回到上一次构建（发布 <DB>.previous）")
    rollback_cmd.add_argument("--db", type=Path, default=settings.db_path())
    template_cmd = commands.add_parser("template", help="生成下发给单位的空白自评表（make template）")
    template_cmd.add_argument("--year", type=int, required=True)
    template_cmd.add_argument("--out", type=Path, required=True)
    template_cmd.add_argument("--frameworks", type=Path, default=None,
                              help="评分框架文件夹（默认 PERF_FRAMEWORKS 或 schemas/frameworks）")
    docs_cmd = commands.add_parser("docs", help="由代码和评分框架生成 docs/metrics.md、docs/rules.md 和 warehouse.sql")
    docs_cmd.add_argument("--check", action="store_true", help="只检查生成的文件是否与代码一致")
    add_review_commands(commands)
    args = parser.parse_args(argv)

    if args.command == "run":
        from pipeline.run import RunError, run
        from pipeline.publishing.summary import summary
        from pipeline.publishing.warehouse import WarehouseCheckError
        try:
            result = run(args.raw, args.db, progress=not args.no_progress, force=args.force, ledger=args.ledger)
        except (RunError, WarehouseCheckError) as exc:
            print(f"pipeline: {exc}", file=sys.stderr)
            return 2
        if result is None:
            print("输入、评分框架和程序均未变化，已发布的数据仓库保持不变。")
        print(summary(args.db))
        if at_once:
            end_at_once(0)
        return 0
    if args.command == "rollback":
        from pipeline.publishing.summary import summary
        from pipeline.publishing.warehouse import roll_back
        try:
            roll_back(args.db)
        except OSError as exc:
            print(f"rollback: {exc}", file=sys.stderr)
            return 2
        print("已回到上一次构建。")
        print(summary(args.db))
        return 0
    if args.command == "template":
        from pipeline.scoring.framework import FrameworkError
        from pipeline.forms.template import write_template
        try:
            path = write_template(args.year, args.out, args.frameworks)
        except FrameworkError as exc:
            print(f"template: {exc}", file=sys.stderr)
            return 2
        print(f"已生成 {path}")
        return 0
    if args.command == "docs":
        from pipeline.checking import doc as rules_doc
        from pipeline.publishing import warehouse
        from pipeline.scoring import doc
        from pipeline.scoring.framework import FrameworkError
        try:
            generated = {doc.DOC_PATH: doc.render(), rules_doc.DOC_PATH: rules_doc.render(),
                         warehouse.DDL_PATH: warehouse.ddl()}
        except FrameworkError as exc:
            print(f"docs: {exc}", file=sys.stderr)
            return 2
        stale = [path for path, text in generated.items()
                 if not path.exists() or path.read_text(encoding="utf-8") != text]
        if args.check:
            for path in generated:
                print(f"{path} {'已过时：请运行 python -m pipeline docs' if path in stale else '与代码一致'}")
            return 1 if stale else 0
        for path in stale:
            path.write_text(generated[path], encoding="utf-8")
            print(f"已生成 {path}")
        return 0
    if args.command == "review":
        return review(args)
    return 1  # pragma: no cover


def add_review_commands(commands) -> None:
    review_cmd = commands.add_parser("review", help="财政局复核：记录、撤回、列出复核得分（make review）")
    actions = review_cmd.add_subparsers(dest="action", required=True)
    for action, text in (("set", "记录复核得分"), ("withdraw", "撤回复核得分"), ("list", "列出复核得分")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("--ledger", type=Path, default=settings.ledger_path())
        sub.add_argument("--raw", type=Path, default=settings.raw_dir())
        sub.add_argument("--db", type=Path, default=settings.db_path())
        sub.add_argument("--year", type=int, required=action != "list", help="评价年度")
        sub.add_argument("--unit", required=action != "list", help="单位名称或单位编码")
        if action == "list":
            sub.add_argument("--all", action="store_true", help="包括被替代和已撤回的历史记录")
            continue
        sub.add_argument("--code", required=True, help="指标代码，如 B6")
        if action == "set":
            sub.add_argument("--score", required=True, help="复核得分，0 到分值，最多两位小数")
        sub.add_argument("--reason", required=True, help="理由")
        sub.add_argument("--by", required=True, help="复核人")


def review(args) -> int:
    from pipeline import ledger
    from pipeline.ledger.record import Refused, check_ledger_place, describe, known_units, record, resolve_unit

    try:
        check_ledger_place(args.ledger, args.db)
        if args.action == "list":
            unit = resolve_unit(args.unit, known_units(args.raw, args.db)).name if args.unit else None
            shown = (ledger.all_decisions(args.ledger) if args.all
                     else sorted(ledger.current_decisions(args.ledger).values(),
                                 key=lambda d: (d.year, d.unit_name, d.code)))
            shown = [d for d in shown if (args.year is None or d.year == args.year)
                     and (unit is None or d.unit_name == unit)]
            for decision in shown:
                print(describe(decision))
            print(f"共 {len(shown)} 条{'记录' if args.all else '有效的复核得分'}（{args.ledger}）")
            return 0
        decision = record(args.ledger, year=args.year, unit=args.unit, code=args.code,
                          score=getattr(args, "score", None), reason=args.reason, officer=args.by,
                          withdraw=args.action == "withdraw", raw=args.raw, db=args.db)
    except Refused as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 2
    print(f"已记录：{describe(decision)}")
    print("重新运行 make pipeline 后生效。")
    return 0


if __name__ == "__main__":
    sys.exit(main(at_once=True))
