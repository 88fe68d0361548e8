"""pandera's polars API, the only one the project validates with, loaded without pandas.

pandera's package imports pandas (and hypothesis, for data synthesis) whenever they are
installed, and looks for pandas again at its first validation: about 0.3 s CPU of every run
that validates, a sixth of a rebuild after a 1 % change (docs/benchmarks.md). The reports of
pipeline/outputs need pandas, so it stays installed; but pandera is made to work where
neither is, and its polars API uses neither. So while pandera loads and validates once, the
two are reported as not installed (the error pandera expects then), and afterwards they
import as usual. A polars frame is validated by the same polars backend either way. Where
pandas or pandera was loaded already, pandera is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

import polars as pl

_HIDDEN = ("pandas", "hypothesis")


class _Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in _HIDDEN:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


def _load():
    if any(name in sys.modules for name in ("pandas", "pandera")):
        return importlib.import_module("pandera.polars")
    absent = _Absent()
    sys.meta_path.insert(0, absent)
    try:
        pa = importlib.import_module("pandera.polars")
        # the first validation is when pandera looks for pandas' frame types
        pa.DataFrameSchema({"x": pa.Column(int, pa.Check.ge(0))}).validate(pl.DataFrame({"x": [1]}))
        return pa
    finally:
        sys.meta_path.remove(absent)


pa = _load()
