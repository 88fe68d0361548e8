"""Command line: `python -m pipeline run|rollback|template|docs`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="部门整体支出绩效自评 数据处理")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="校验、入库、复核评分（make pipeline）")
    run_cmd.add_argument("--raw", type=Path, default=settings.raw_dir())
    run_cmd.add_argument("--db", type=Path, default=settings.db_path())
    run_cmd.add_argument("--no-progress", action="store_true")
    run_cmd.add_argument("--force", action="store_true", help="即使输入未变化也重新构建")
    rollback_cmd = commands.add_parser("rollback", help="回到上一次构建（发布 <DB>.previous）")
    rollback_cmd.add_argument("--db", type=Path, default=settings.db_path())
    template_cmd = commands.add_parser("template", help="生成下发给单位的空白自评表（make template）")
    template_cmd.add_argument("--year", type=int, required=True)
    template_cmd.add_argument("--out", type=Path, required=True)
    template_cmd.add_argument("--frameworks", type=Path, default=None,
                              help="评分框架文件夹（默认 PERF_FRAMEWORKS 或 schemas/frameworks）")
    docs_cmd = commands.add_parser("docs", help="由代码和评分框架生成 docs/metrics.md")
    docs_cmd.add_argument("--check", action="store_true", help="只检查 docs/metrics.md 是否与生成结果一致")
    args = parser.parse_args(argv)

    if args.command == "run":
        from pipeline.run import RunError, run
        from pipeline.publishing.summary import summary
        from pipeline.publishing.warehouse import WarehouseCheckError
        try:
            result = run(args.raw, args.db, progress=not args.no_progress, force=args.force)
        except (RunError, WarehouseCheckError) as exc:
            print(f"pipeline: {exc}", file=sys.stderr)
            return 2
        if result is None:
            print("输入、评分框架和程序均未变化，已发布的数据仓库保持不变。")
        print(summary(args.db))
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
        from pipeline.scoring import doc
        from pipeline.scoring.framework import FrameworkError
        try:
            text = doc.render()
        except FrameworkError as exc:
            print(f"docs: {exc}", file=sys.stderr)
            return 2
        if args.check:
            same = doc.DOC_PATH.exists() and doc.DOC_PATH.read_text(encoding="utf-8") == text
            print(f"{doc.DOC_PATH} {'与代码一致' if same else '已过时：请运行 python -m pipeline docs'}")
            return 0 if same else 1
        doc.DOC_PATH.write_text(text, encoding="utf-8")
        print(f"已生成 {doc.DOC_PATH}")
        return 0
    return 1  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
