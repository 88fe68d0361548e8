"""What the pages compute from the warehouse, kept per published build.

Going back to a page or changing a widget reruns the whole page script. At a province's
size recomputing its aggregates and figures took seconds, and so did finding them again in
a cache keyed on the frames' content (hashing ten thousand rows per argument) and copying
them out of it (a pickled copy per read). Here every result is kept once, in
st.cache_resource, as one shared object: callers read it and never modify it.

A result is known by what it was made from, not by its content:
- read(data.f, …): the build (the warehouse file's identity, data.build_identity), the
  viewer's scope and the arguments;
- scores(chosen) and rows(…): the frame read and the sidebar's filters;
- cached(f, …): f and its arguments, a frame argument known by where it came from when
  it came from here (else by its content).
A new build changes the file's identity, so nothing kept from the previous one is used.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable

import pandas as pd
import streamlit as st

from . import data, filters

# Kept values: a province's filtered scores are a few MB each, most results (figures,
# group tables) a few kB. Unused ones leave after KEPT_SECONDS, the oldest past KEPT_MAX.
KEPT_MAX = 512
KEPT_SECONDS = 6 * 3600

_ORIGINS: dict[int, tuple[weakref.ref, str]] = {}


def _remember(value, origin: str):
    """Note where a kept frame came from, so that passing it on costs no hashing."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        ident = id(value)
        _ORIGINS[ident] = (weakref.ref(value, lambda _, ident=ident: _ORIGINS.pop(ident, None)), origin)
    elif isinstance(value, tuple):
        for index, part in enumerate(value):
            _remember(part, f"{origin}[{index}]")
    return value


def origin_of(frame: pd.DataFrame | pd.Series) -> str | None:
    entry = _ORIGINS.get(id(frame))
    return entry[1] if entry is not None and entry[0]() is frame else None


def _content(frame: pd.DataFrame | pd.Series) -> str:
    digest = hashlib.blake2b(digest_size=16)
    if isinstance(frame, pd.DataFrame):
        shape = (list(map(str, frame.columns)), list(map(str, frame.dtypes)))
    else:
        shape = (str(frame.name), str(frame.dtype))
    digest.update(repr((type(frame).__name__, shape)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return "content:" + digest.hexdigest()


def _described(value) -> str:
    """A text that differs whenever the value would give a different result."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return origin_of(value) or _content(value)
    if isinstance(value, filters.Filters):
        return repr(value.key())
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(map(_described, value)) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_described(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


@st.cache_resource(show_spinner=False, max_entries=KEPT_MAX, ttl=KEPT_SECONDS)
def _kept(key: str, _compute: Callable[[], object]):
    return _compute()


def _keep(what: str, compute: Callable[[], object]):
    key = hashlib.blake2b(what.encode(), digest_size=20).hexdigest()
    return _remember(_kept(key, compute), key)


def _build() -> str:
    path, signature = data.build_identity()
    return repr((path, signature, data.scope_of(None)))


def read(function: Callable[..., pd.DataFrame], *args, **kwargs) -> pd.DataFrame:
    """data.function(*args, **kwargs) of the current build, as the viewer may see it."""
    what = f"read {function.__module__}.{function.__qualname__} {_build()} {args!r} {sorted(kwargs.items())!r}"
    return _keep(what, lambda: function(*args, **kwargs))


def rows(frame: pd.DataFrame, chosen: filters.Filters, *, grades: bool = True) -> pd.DataFrame:
    """filters.apply of a kept frame (with each row's 地区 when the roster has them)."""
    grade_column = "review_grade" if grades else None
    what = f"rows {_described(frame)} {chosen.key()!r} {grades}"
    return _keep(what, lambda: filters.with_region(filters.apply(frame, chosen, grade_column=grade_column), chosen))


def scores(chosen: filters.Filters, *, year: int | None = 0, grades: bool = True) -> pd.DataFrame:
    """unit_scores of the chosen year (another `year`; None: every year) under the filters."""
    year = chosen.year if year == 0 else year
    return rows(read(data.unit_scores, year), chosen, grades=grades)


def cached(function: Callable, *args, **kwargs):
    """function(*args, **kwargs), a pure function of presentation/, kept for the next rerun."""
    what = (f"call {function.__module__}.{function.__qualname__} {_described(args)} "
            f"{_described(dict(kwargs))}")
    return _keep(what, lambda: function(*args, **kwargs))
