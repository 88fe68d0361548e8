"""pandera is loaded without pandas on the run path, and validates exactly as with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.builders import County, reference_form

ROOT = Path(__file__).resolve().parent.parent

# validates a bad workbook and prints its findings and whether pandas was imported
VALIDATE = """
import json, sys
{first}
from pathlib import Path
from pipeline.run import process
result = process(Path(sys.argv[1]), progress=False)
rows = sorted((s.found.relative, f.rule, f.location, f.found) for s in result.submissions for f in s.findings)
print(json.dumps({{"pandas": "pandas" in sys.modules, "findings": rows}}, ensure_ascii=False, default=str))
"""


def validated(raw: Path, first: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", VALIDATE.format(first=first), str(raw)], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.splitlines()[-1])


def test_validation_without_pandas_finds_what_it_finds_with_pandas(county: County):
    county.workbook("bad.xlsx", reference_form(data={13: "见附表", 6: -100.0, 7: 809.57}, scores={"B1": 3},
                                               total=97, grade="良", info={"单位名称": "局"}))
    without = validated(county.raw)
    with_pandas = validated(county.raw, first="import pandas")
    assert not without["pandas"] and with_pandas["pandas"]
    rules = {rule for _, rule, _, _ in without["findings"]}
    assert {"data.negative", "data.not_a_number"} <= rules  # a pandera check, and the parse's own
    assert without["findings"] == with_pandas["findings"]
