"""Properties of the normalisers and the report extractor, over generated inputs.

Units type amounts, labels and dates in every way a keyboard allows; a 自评报告 is free
text. These tests state what must hold for all of them and let hypothesis look for the
input where it does not.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.reading.normalise import (
    _TRAILING_COLON, _TRAILING_UNIT, _WHERE_OF, amount_in_yuan, label_key, parse_amount, parse_date, squash,
)
from pipeline.narratives.text import normalise_text
from pipeline.narratives.reports import extract_figures
from schemas.form import DATA_LINES, INFO_FIELDS

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")
SPACES = ("", " ", "\u3000", "\u00a0", "\t")


# ---------------------------------------------------------------- amounts

# Amounts in 元 to the fen, up to a hundred billion (a county's whole budget is far below).
fen_amounts = st.integers(min_value=0, max_value=10**13).map(lambda fen: Decimal(fen) / 100)


def written(amount: Decimal, style: str) -> str:
    text = f"{amount:,.2f}" if style in ("commas", "full_width") else f"{amount:.2f}"
    return text.translate(_FULL_WIDTH) if style == "full_width" else text


@PROPERTY
@given(amount=fen_amounts, style=st.sampled_from(["plain", "commas", "full_width"]),
       suffix=st.sampled_from(["", "元", "万元"]), currency=st.sampled_from(["", "¥", "￥"]),
       sign=st.sampled_from(["", "-", "()"]), pad=st.sampled_from(SPACES))
def test_parse_amount_reads_back_what_was_written(amount, style, suffix, currency, sign, pad):
    text = written(amount, style)
    text = f"({text})" if sign == "()" else sign + text
    text = f"{pad}{currency}{text}{pad}{suffix}{pad}"
    value, in_wanyuan = parse_amount(text)
    expected = -amount if sign else amount
    assert value == float(expected)
    assert in_wanyuan == (suffix == "万元")
    in_yuan = amount_in_yuan(text, form_in_wanyuan=False)
    assert in_yuan == (round(float(expected) * 10_000, 2) if suffix == "万元" else float(expected))


@PROPERTY
@given(amount=fen_amounts, cut=st.data())
def test_parse_amount_ignores_spaces_inside(amount, cut):
    text = written(amount, "commas")
    at = cut.draw(st.integers(min_value=0, max_value=len(text)))
    space = cut.draw(st.sampled_from(SPACES[1:]))
    assert parse_amount(text[:at] + space + text[at:]) == parse_amount(text)


@PROPERTY
@given(st.text())
@example("1e5")
@example("(")
@example("٣٤٥")
@example("−12")
def test_parse_amount_fails_only_with_value_error(text):
    try:
        value, _ = parse_amount(text)
    except ValueError:
        return
    assert value is None or isinstance(value, float)


# ---------------------------------------------------------------- labels

FORM_LABELS = [f.label for f in INFO_FIELDS] + [line.label for line in DATA_LINES]
label_text = st.one_of(
    st.sampled_from(FORM_LABELS),
    st.lists(st.one_of(st.sampled_from(["其中", "：", ":", "（元）", "(万元)", "金额", "支出", " ", "\u3000"]),
                       st.text(max_size=4)), max_size=6).map("".join),
)


def _composes_across_a_space(text: str) -> bool:
    """A combining mark after a space: removing the space joins it to another letter, a
    case no unit types and NFKC cannot treat alike (e + ́ → é)."""
    return any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFKC", text))


form_label_text = st.builds(
    lambda prefix, label, unit, pad: f"{pad}{prefix}{pad}{label}{pad}{unit}",
    st.sampled_from(["", "其中：", "其中:", "其中"]),
    st.sampled_from(sorted({re.sub(r"^其中[:：]|[(（][^()（）]*[)）]$", "", label) for label in FORM_LABELS})),
    st.sampled_from(["", "（元）", "(万元)", "（个）"]), st.sampled_from(SPACES))


@PROPERTY
@given(form_label_text)
def test_label_key_is_idempotent_on_form_labels(text):
    assert label_key(label_key(text)) == label_key(text)


@PROPERTY
@given(label_text)
@example("其中其中")
@example("基本支出（元）（元）")
def test_label_key_is_idempotent(text):
    if _composes_across_a_space(text):
        return
    assert label_key(label_key(text)) == label_key(text)


@PROPERTY
@given(label_text)
@example("其中基本支出")
@example("金额（元）")
@example("金额(万元)")
@example("金额:")
@example("金额：")
def test_label_key_strips_what_its_patterns_strip(text):
    """label_key's shortcut for a text that neither starts with 其中 nor ends with a bracket or
    colon gives what running its three substitutions to the end gives."""
    key = squash(text)
    while (stripped := _TRAILING_UNIT.sub("", _WHERE_OF.sub("", _TRAILING_COLON.sub("", key)))) != key:
        key = stripped
    assert label_key(text) == key


@PROPERTY
@given(label=label_text, cut=st.data())
def test_label_key_ignores_spaces(label, cut):
    if _composes_across_a_space(label):
        return
    at = cut.draw(st.integers(min_value=0, max_value=len(label)))
    space = cut.draw(st.sampled_from(SPACES[1:]))
    assert label_key(label[:at] + space + label[at:]) == label_key(label)


def test_form_labels_keep_their_words():
    for label in FORM_LABELS:
        key = label_key(label)
        assert key and not re.search(r"\s", key) and not key.startswith("其中")


# ---------------------------------------------------------------- dates

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
DATE_FORMATS = {
    "iso": lambda d: d.isoformat(),
    "slashes": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dots": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    "dashes_short": lambda d: f"{d.year}-{d.month}-{d.day}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "chinese_padded": lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日",
    "chinese_no_day_mark": lambda d: f"{d.year}年{d.month}月{d.day}",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "with_time": lambda d: f"{d.isoformat()} 09:30:00",
    "calamine_datetime": lambda d: f"{d.isoformat()}T00:00:00",
    "full_width": lambda d: f"{d.year}年{d.month}月{d.day}日".translate(_FULL_WIDTH),
}


@PROPERTY
@given(day=dates, style=st.sampled_from(sorted(DATE_FORMATS)), pad=st.sampled_from(SPACES))
def test_parse_date_accepts_every_valid_date_in_every_format(day, style, pad):
    assert parse_date(f"{pad}{DATE_FORMATS[style](day)}{pad}") == day


EXCEL_EPOCH = dt.date(1899, 12, 30)
# A bare number is read as an Excel serial only strictly between 10000 (1927-05-18) and
# 80000 (2119-01-11): five digits that cannot be a year, a yyyymmdd date or an amount.
SERIALS = (10_001, 79_999)


@PROPERTY
@given(st.integers(*SERIALS))
@example(SERIALS[0])
@example(SERIALS[1])
def test_parse_date_reads_excel_serials(serial):
    day = EXCEL_EPOCH + dt.timedelta(days=serial)
    assert parse_date(str(serial)) == day
    assert parse_date(f"{serial}.0") == day


@PROPERTY
@given(st.integers(0, 10**5).filter(lambda n: not SERIALS[0] <= n <= SERIALS[1]))
@example(SERIALS[0] - 1)
@example(SERIALS[1] + 1)
def test_parse_date_refuses_numbers_outside_the_serial_range(number):
    try:
        parse_date(str(number))
    except ValueError:
        return
    raise AssertionError(f"{number} read as a date")


@PROPERTY
@given(st.text())
@example("2024-02-30")
@example("00000101")
@example("99999999")
@example("9" * 400)
@example("２０２４年１３月１日")
def test_parse_date_fails_only_with_value_error(text):
    try:
        value = parse_date(text)
    except ValueError:
        return
    assert value is None or isinstance(value, dt.date)


# ---------------------------------------------------------------- the report extractor

REPORT_WORDS = ["一、", "（二）", "3.", "(4)", "自评得分", "分", "元", "万元", "%", "支出率为", "收入决算数",
                "三公经费", "公用经费", "控制率", "基本支出", "项目支出", "等级为", "优秀", "。", "，", "：",
                "\n", "\n\n", " ", "评价年度：", "评价单位：", "填报日期：", "2024年", "7月28日", "=", "×", "÷"]
report_text = st.lists(st.one_of(st.sampled_from(REPORT_WORDS), st.text(max_size=12),
                                 st.decimals(min_value=0, max_value=10**9, places=2).map(str)),
                       max_size=60).map("".join)


def _no_spaces(text: str) -> str:
    return re.sub(r"\s", "", text)


@PROPERTY
@given(st.one_of(report_text, st.text()))
def test_extract_figures_never_raises_and_quotes_the_text(text):
    figures = extract_figures(text)
    normalised = _no_spaces(normalise_text(text))
    for figure in figures:
        # wrapped lines are rejoined, so a sentence is found once spaces and breaks are set aside
        assert _no_spaces(figure.sentence) in normalised
        assert figure.value is not None or figure.text_value is not None


AMOUNT_SENTENCES = (
    ("年初收入预算数为{r1}，其中：一般公共预算财政拨款收入{r2}，政府性基金预算财政拨款收入{r3}。", ("r1", "r2", "r3")),
    ("本年支出决算数为{r13}，其中：基本支出{r14}，项目支出{r15}；年末结转和结余{r16}。", ("r13", "r14", "r15", "r16")),
    ("公用经费预算安排{r17}，全年实际支出{r18}。", ("r17", "r18")),
    ("三公经费年初预算{r19}，实际支出{r20}。", ("r19", "r20")),
)


@st.composite
def stated_amounts(draw):
    """A sentence of the report template with each amount written in 元 or 万元, and what it says in 元."""
    template, items = draw(st.sampled_from(AMOUNT_SENTENCES))
    words, expected = {}, {}
    for item in items:
        if draw(st.booleans()):
            amount = draw(fen_amounts)
            words[item] = written(amount, draw(st.sampled_from(["plain", "commas", "full_width"]))) + "元"
            expected[item] = float(amount)
        else:
            wan = draw(st.integers(min_value=0, max_value=10**9)).__truediv__(100)
            wan = Decimal(str(wan)).quantize(Decimal("0.01"))
            words[item] = f"{wan:,.2f}万元"
            expected[item] = round(float(wan) * 10_000, 2)
    return template.format(**words), expected


@PROPERTY
@given(stated_amounts(), st.sampled_from(["", "二、收支情况\n", "（二）支出\n"]))
def test_amounts_in_a_sentence_come_back_exactly(stated, heading):
    sentence, expected = stated
    figures = extract_figures(heading + sentence)
    assert {f.item: f.value for f in figures if f.item in expected} == expected
    assert all(f.sentence for f in figures)


@PROPERTY
@given(st.integers(min_value=0, max_value=10_000).map(lambda basis: Decimal(basis) / 100))
def test_rates_in_a_sentence_come_back_exactly(percent):
    figures = extract_figures(f"本年预算资金支出率为{percent:.2f}%，较上年有所提高。")
    rates = [f.value for f in figures if f.item == "execution_rate"]
    assert rates == [float(percent / 100)]
