"""Figures stated in a narrative 自评报告, each with the sentence it came from.

Pure functions over the report's text: no files, no workbook. Amounts come out in 元
(a figure written in 万元 is multiplied by 10 000), rates as fractions (99.72% → 0.9972),
scores in points. What a figure means is read from the words just before it (its
clause), the words earlier in its sentence and the heading it sits under, because units
number and word their reports differently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Indicator codes of the framework, in its order, with the 三级指标 name and the words
# a report uses for it in its headings. A year's framework can add its own names
# (extract_figures(indicator_names=...)); the words here cover the usual wording.
INDICATOR_WORDS: dict[str, tuple[str, ...]] = {
    "A1": ("绩效目标合理性与可衡量性", "绩效目标合理性", "合理性与可衡量性", "可衡量性"),
    "A2": ("效益指标完成情况", "效益指标"),
    "A3": ("部门预算资金支出率", "预算资金支出率", "资金支出率", "预算执行率", "支出率"),
    "B1": ("新增项目事前绩效评估", "事前绩效评估", "新增项目"),
    "B2": ("预算编制约束性", "预算编制约束", "约束性"),
    "B3": ("财务管理合规性", "财务管理合规", "合规性"),
    "B4": ("信息公开",),
    "B5": ("绩效管理制度建设与执行", "绩效管理"),
    "B6": ("采购管理", "政府采购"),
    "B7": ("资产管理",),
    "B8": ("经济成本控制", "公用经费控制率", "公用经费"),
    "B9": ("三公经费控制率", "三公"),
}
INDICATOR_CODES: tuple[str, ...] = tuple(INDICATOR_WORDS)
# The largest 分值 of any single indicator when no framework is given (section 3's: A1, A2);
# a stated score above it is the total.
LARGEST_INDICATOR_MAX = 20.0
# A1 may be named only by its two qualities ("目标具有合理性、可衡量性").
_A1_QUALITIES = ("合理性", "可衡量性")

GRADE_WORDS = {"优秀": "优", "优": "优", "良好": "良", "良": "良",
               "中等": "中", "中": "中", "较差": "差", "差": "差"}


@dataclass(frozen=True)
class ReportFigure:
    item: str                 # year, unit_name, filed_on, self_score, self_grade, r1…r20,
                              # execution_rate, public_control_rate, sangong_control_rate,
                              # score.A1 … score.B9
    value: float | None       # 元 for amounts, fraction for rates, points for scores, year
    text_value: str | None    # unit_name, filed_on (ISO date), self_grade
    sentence: str
    written: str | None = None  # the figure as the report writes it: 837.40万元, 99.72%, 20分
    paragraph: int = 0          # 1-based among the report's non-empty lines; 0 = unknown


# ---------------------------------------------------------------- normalisation

_CIRCLED = {chr(0x2460 + i): f"({i + 1})" for i in range(20)}  # ① … ⑳


def normalise_text(text: str) -> str:
    """NFKC, with ① kept as a numbering mark "(1)" rather than a bare digit."""
    text = "".join(_CIRCLED.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)


def squash(text: str) -> str:
    """Without spaces or quote marks, for comparing words: “三公”经费 → 三公经费."""
    return re.sub(r"[\s\"'“”‘’「」『』《》〈〉]", "", text)


# ---------------------------------------------------------------- lines, sentences

_NUMBERING = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百]+(?:部分|章|节)"
    r"|[一二三四五六七八九十]+\s*[、.]"
    r"|\(\s*[一二三四五六七八九十]+\s*\)"
    r"|\(\s*\d{1,2}\s*\)"
    r"|\d{1,2}\s*[.、](?!\d))\s*"
)
_TOP_LEVEL = re.compile(r"^\s*(?:第[一二三四五六七八九十百]+(?:部分|章|节)|[一二三四五六七八九十]+\s*[、.]|\(\s*[一二三四五六七八九十]+\s*\))")
_SENTENCE = re.compile(r"[^。;!?]+")


@dataclass(frozen=True)
class _Line:
    start: int        # offset in the normalised text
    text: str
    paragraph: int    # 1-based among non-empty lines

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def heading(self) -> str | None:
        """The heading words of a numbered line ("(3)预算编制约束性:…" → 预算编制约束性),
        or the whole of a short unnumbered line without a full stop."""
        numbered = _NUMBERING.match(self.text)
        if numbered:
            rest = self.text[numbered.end():]
            return re.split(r"[:。,;]", rest, maxsplit=1)[0][:40]
        stripped = self.text.strip()
        if stripped and len(stripped) <= 25 and "。" not in stripped:
            return stripped
        return None


def _continues(previous: str, line: str) -> bool:
    """Whether line carries on the sentence of the previous line: a paragraph wrapped
    mid-sentence, as text copied out of a PDF is ("…追加一笔公车" / "购置费，自评得分3分。")."""
    previous, line = previous.strip(), line.strip()
    return (len(previous) > 25
            and not re.search(r"[。;!?:]$", previous)
            and not _NUMBERING.match(line)
            and ":" not in line[:8])


def _layout(text: str) -> tuple[str, list[_Line]]:
    """The text with wrapped lines rejoined, and its lines; each line keeps the number
    of the report's own non-empty line it starts on."""
    joined: list[tuple[str, int]] = []
    paragraph = 0
    for raw in text.split("\n"):
        if not raw.strip():
            continue
        paragraph += 1
        if joined and _continues(joined[-1][0], raw):
            joined[-1] = (joined[-1][0].rstrip() + raw.strip(), joined[-1][1])
        else:
            joined.append((raw, paragraph))
    lines, offset = [], 0
    for line_text, number in joined:
        lines.append(_Line(offset, line_text, number))
        offset += len(line_text) + 1
    return "\n".join(line_text for line_text, _ in joined), lines


def _sentence_at(line: _Line, pos: int) -> tuple[str, int]:
    """The sentence (split on 。;!? within the line) holding offset pos, and its start."""
    for part in _SENTENCE.finditer(line.text):
        if part.start() <= pos - line.start < part.end():
            return part.group().strip(), line.start + part.start()
    return line.text.strip(), line.start


def _line_at(lines: list[_Line], pos: int) -> _Line | None:
    for line in lines:
        if line.start <= pos < line.end:
            return line
    return None


# ---------------------------------------------------------------- numbers

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = re.compile(rf"(?<![\d.])({_NUMBER})\s*(亿元|万元|元)")
_PERCENT = re.compile(rf"(?<![\d.])({_NUMBER})\s*%")
# A rate written as a fraction, right after the word 率: "支出率为0.9972".
_FRACTION = re.compile(r"率\s*(?:为|是|达到|达|:)?\s*([01]\.\d{2,})(?![\d./*×÷%])(?!\s*(?:亿元|万元|元|%))")
_SCALE = {"元": 1.0, "万元": 10_000.0, "亿元": 100_000_000.0}
# In "8374036.75/8397200.18*100%=99.72%" only the result after "=" is the stated rate.
_FORMULA_AFTER = re.compile(r"\s*[=≈]")
_FORMULA_BEFORE = re.compile(r"[*×/÷]\s*$")
_CLAUSE_BREAK = re.compile(r"[,，:、]")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class _Token:
    kind: str         # amount / rate
    start: int        # offset in the normalised text
    end: int
    value: float      # 元 or fraction
    written: str


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    for m in _AMOUNT.finditer(text):
        value = round(_number(m.group(1)) * _SCALE[m.group(2)], 2)
        found.append(_Token("amount", m.start(), m.end(), value, m.group(1) + m.group(2)))
    for m in _PERCENT.finditer(text):
        if _FORMULA_AFTER.match(text, m.end()) or _FORMULA_BEFORE.search(text, 0, m.start()):
            continue
        found.append(_Token("rate", m.start(), m.end(), round(_number(m.group(1)) / 100, 10),
                            m.group(1) + "%"))
    for m in _FRACTION.finditer(text):
        found.append(_Token("rate", m.start(1), m.end(1), float(m.group(1)), m.group(1)))
    return sorted(found, key=lambda t: t.start)


# ---------------------------------------------------------------- what a figure is

def _topic(words: str) -> str | None:
    """Which of 公用经费 / 三公经费 the words are last about."""
    public = max(words.rfind("公用经费"), words.rfind("经济成本"))
    sangong = words.rfind("三公")
    if public < 0 and sangong < 0:
        return None
    return "public" if public > sangong else "sangong"


_STRONG = re.compile(r"基本支出|项目支出|收入|决算|结转|下达|一般公共预算|政府性基金")
_EXECUTION = re.compile(r"支出(?:完成|执行)?率|(?:预算|资金)?执行率")


@dataclass
class _Context:
    group: str | None = None          # income_budget / income_actual / spend_budget / spend_actual
    heading_topic: str | None = None  # public / sangong, from the heading a paragraph sits under
    domain: str | None = None         # income / spend, from a heading such as 部门整体收入情况


def _classify_rate(label: str, prefix: str, ctx: _Context) -> str | None:
    if "控制率" in label or ("率" in label and _topic(label)):
        topic = _topic(label) or _topic(prefix) or ctx.heading_topic
        return {"public": "public_control_rate", "sangong": "sangong_control_rate"}.get(topic or "")
    if _EXECUTION.search(label):
        return "execution_rate"
    return None


def _classify_topic_amount(label: str, topic: str) -> str | None:
    budget, actual = ("r17", "r18") if topic == "public" else ("r19", "r20")
    if re.search(r"出国|用车|公车|接待|车辆", label):
        return None  # a part of 三公经费 (行次 21–23), not its total
    if re.search(r"实际|决算|执行数|支出数|已支出|支出了|开支", label):
        return actual
    if re.search(r"预算|安排|调整数|计划", label):
        return budget
    if "支出" in label:
        return actual
    return None


def _classify_amount(label: str, prefix: str, ctx: _Context) -> str | None:
    topic = _topic(label)
    if topic is None and not _STRONG.search(label):
        topic = _topic(prefix) or ctx.heading_topic
    if topic:
        return _classify_topic_amount(label, topic)

    def part(budget: str, actual: str, budget_group: str, actual_group: str) -> str | None:
        if re.search(r"决算|实际|完成", label):
            return actual
        if re.search(r"年初|预算数", label):
            return budget
        return {budget_group: budget, actual_group: actual}.get(ctx.group or "")

    if re.search(r"上年结转|年初结转", label):
        return "r8"
    if re.search(r"结转和?结余|结余结转|年末结转", label):
        return "r16"
    if "其他收入" in label:
        return "r7"
    if re.search(r"下达.*预算|预算.*下达|调整后.*预算|全年预算数", label):
        return "r12"
    if "一般公共预算" in label:
        return part("r2", "r5", "income_budget", "income_actual")
    if "政府性基金" in label:
        return part("r3", "r6", "income_budget", "income_actual")
    if "基本支出" in label:
        return part("r10", "r14", "spend_budget", "spend_actual")
    if "项目支出" in label:
        return part("r11", "r15", "spend_budget", "spend_actual")
    if re.search(r"年初.*收入.*预算|年初.*预算.*收入|收入预算|预算收入", label):
        ctx.group = "income_budget"
        return "r1"
    if re.search(r"收入决算|决算收入|实际收入|全年收入|收入总计|总收入", label):
        ctx.group = "income_actual"
        return "r4"
    if re.search(r"年初.*支出.*预算|年初.*预算.*支出|支出预算|预算支出", label):
        ctx.group = "spend_budget"
        return "r9"
    if re.search(r"支出决算|决算支出|实际支出|全年支出|总支出|支出总额|共支出|累计支出", label):
        ctx.group = "spend_actual"
        return "r13"
    if ctx.domain and re.search(r"年初.*预算|预算数", label):
        ctx.group = f"{ctx.domain}_budget"
        return "r1" if ctx.domain == "income" else "r9"
    if ctx.domain and re.search(r"决算", label):
        ctx.group = f"{ctx.domain}_actual"
        return "r4" if ctx.domain == "income" else "r13"
    return None


# ---------------------------------------------------------------- the title block

_YEAR = re.compile(r"评价年度\s*:?\s*(\d{4})")
_TITLE_YEAR = re.compile(r"(\d{4})\s*年度?.{0,20}?整体支出(?:绩效)?")
_UNIT = re.compile(
    r"(?:评价单位|单位名称|填报单位|编报单位|预算单位|部门名称|评价部门)\s*"
    r"(?:\((?:公章|盖章)\))?\s*:\s*([^\s:,;。()]{2,40})")
_TITLE_UNIT = re.compile(r"^\s*([^\d\s:,;。]{2,40}?)\s*\d{4}\s*年度?.{0,12}?整体支出")
_DATE = r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?"
_FILED = re.compile(r"(?:填报|报送|编制|填表)日期\s*:?\s*" + _DATE)
_DATE_LINE = re.compile(r"^\s*" + _DATE + r"\s*$", re.MULTILINE)


def _iso(year: str, month: str, day: str) -> str | None:
    y, m, d = int(year), int(month), int(day)
    if 1 <= m <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def _title_figures(text: str, lines: list[_Line]) -> list[ReportFigure]:
    figures: list[ReportFigure] = []

    def add(item: str, match: re.Match, value: float | None, text_value: str | None) -> None:
        line = _line_at(lines, match.start())
        sentence, _ = _sentence_at(line, match.start()) if line else (match.group(), 0)
        figures.append(ReportFigure(item, value, text_value, sentence,
                                    match.group().strip(), line.paragraph if line else 0))

    year = _YEAR.search(text)
    if year is None:
        # no 评价年度 label: the year in the title ("2024年度部门整体支出绩效自评报告")
        year = _TITLE_YEAR.search(text, 0, lines[min(7, len(lines) - 1)].end)
    if year:
        add("year", year, float(year.group(1)), None)

    unit = _UNIT.search(text)
    if unit:
        add("unit_name", unit, None, unit.group(1))
    elif title := _TITLE_UNIT.match(lines[0].text):
        # no 单位 label: the name the title starts with, "遂溪县某某局2024年度部门整体支出…"
        add("unit_name", title, None, squash(title.group(1)))

    filed = _FILED.search(text)
    if filed is None:
        # no 填报日期 label: the signing date on a line of its own near the end
        for line in reversed(lines[-5:]):
            filed = _DATE_LINE.match(text, line.start, line.end)
            if filed:
                break
    if filed and (iso := _iso(*filed.groups())):
        add("filed_on", filed, None, iso)
    return figures


# ---------------------------------------------------------------- scores and grade

_TOTAL_SCORE = re.compile(
    r"(?:自评(?:总|综合)?分数|自评(?:总|综合)(?:得)?分|综合(?:自评)?(?:得分|评分)|总得分|合计得分)"
    r"\s*(?:为|是|:|达到)?\s*(\d+(?:\.\d+)?)\s*分")
_SCORE = re.compile(r"(?:自评分?得分|自评分|得分)\s*(?:为|是|:)?\s*(\d+(?:\.\d+)?)\s*分")
_GRADE = re.compile(
    r"(?:等级|等次|评级)\s*(?:评定为|确定为|为|是|:)?\s*[\"“'‘「]?\s*(优秀|良好|中等|较差|优|良|中|差)")


def _indicator_words(indicator_names: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    """Each indicator's names: the framework's own, plus the usual wording of the indicator
    it names (matched by name, not by code: another framework's A3 is another indicator)."""
    if not indicator_names:
        return dict(INDICATOR_WORDS)
    words: dict[str, list[str]] = {}
    for code, name in indicator_names.items():
        name = squash(normalise_text(name))
        bare = re.sub(r"\(.*?\)", "", name)
        inner = re.findall(r"\((.*?)\)", name)
        usual = [w for names in INDICATOR_WORDS.values() if names[0] in name for w in names]
        words[code] = list(dict.fromkeys(n for n in (name, bare, *inner, *usual) if n))
    return {code: tuple(names) for code, names in words.items()}


def _name_in(words: str, vocabulary: dict[str, tuple[str, ...]]) -> str | None:
    """The indicator named earliest in words (the longest name where two start together)."""
    squashed = squash(words)
    best: tuple[int, int, str] | None = None
    for code, names in vocabulary.items():
        for name in names:
            at = squashed.find(name)
            if at >= 0 and (best is None or (at, -len(name)) < best[:2]):
                best = (at, -len(name), code)
    if best is None and "A1" in vocabulary and all(q in squashed for q in _A1_QUALITIES):
        return "A1"
    return best[2] if best else None


def _indicator_for(score_pos: int, segment_start: int, lines: list[_Line],
                   vocabulary: dict[str, tuple[str, ...]], previous: str | None,
                   order: tuple[str, ...]) -> str | None:
    """Which indicator a stated 自评得分 belongs to: the heading of its own line, then the
    nearest headings above it (since the previous score), then the words of its own
    line, then the framework's order after the previous indicator."""
    here = _line_at(lines, score_pos)
    if here is None:
        return None
    index = lines.index(here)
    if here.start >= segment_start and (heading := here.heading()):
        if code := _name_in(heading, vocabulary):
            return code
    for line in reversed(lines[max(0, index - 6):index]):
        if line.start < segment_start:
            break
        if (heading := line.heading()) and (code := _name_in(heading, vocabulary)):
            return code
    own_words = here.text[max(segment_start, here.start) - here.start:score_pos - here.start]
    if code := _name_in(own_words, vocabulary):
        return code
    if previous in order and order.index(previous) + 1 < len(order):
        return order[order.index(previous) + 1]
    return None


def _score_figures(text: str, lines: list[_Line], indicator_names: Mapping[str, str] | None,
                   largest_max: float = LARGEST_INDICATOR_MAX) -> list[ReportFigure]:
    vocabulary = _indicator_words(indicator_names)
    order = tuple(indicator_names) if indicator_names else INDICATOR_CODES
    figures: list[ReportFigure] = []
    totals = [(m.start(), m.end()) for m in _TOTAL_SCORE.finditer(text)]
    events = [("total", m) for m in _TOTAL_SCORE.finditer(text)]
    events += [("score", m) for m in _SCORE.finditer(text)
               if not any(s <= m.start() < e or m.start() <= s < m.end() for s, e in totals)]
    events.sort(key=lambda event: event[1].start())

    segment_start, previous = 0, None
    for kind, match in events:
        line = _line_at(lines, match.start())
        if line is None:
            continue
        sentence, _ = _sentence_at(line, match.start())
        value = float(match.group(1))
        written = match.group(1) + "分"
        if kind == "score" and (_GRADE.search(sentence) or value > largest_max):
            kind = "total"
        if kind == "total":
            figures.append(ReportFigure("self_score", value, None, sentence, written, line.paragraph))
        elif code := _indicator_for(match.start(), segment_start, lines, vocabulary,
                                    previous, order):
            figures.append(ReportFigure(f"score.{code}", value, None, sentence, written,
                                        line.paragraph))
            previous = code
        segment_start = match.end()

    for match in _GRADE.finditer(text):
        line = _line_at(lines, match.start())
        if line is None:
            continue
        sentence, _ = _sentence_at(line, match.start())
        figures.append(ReportFigure("self_grade", None, GRADE_WORDS[match.group(1)], sentence,
                                    match.group(1), line.paragraph))
    return figures


# ---------------------------------------------------------------- amounts and rates

def _amount_and_rate_figures(text: str, lines: list[_Line]) -> list[ReportFigure]:
    figures: list[ReportFigure] = []
    ctx = _Context()
    for line in lines:
        heading = line.heading()
        numbered = _NUMBERING.match(line.text)
        if heading is not None and (numbered or not _tokens(line.text)):
            # a new heading ends what the previous one was about; a 收入/支出 heading
            # says which side an unqualified 年初预算数 / 决算数 below it is on
            words = squash(heading)
            ctx.group = None
            ctx.heading_topic = _topic(words)
            if "收入" in words:
                ctx.domain = "income"
            elif "支出" in words:
                ctx.domain = "spend"
            elif numbered and _TOP_LEVEL.match(line.text):
                ctx.domain = None
        for part in _SENTENCE.finditer(line.text):
            sentence = part.group().strip()
            sentence_start = line.start + part.start()
            kept_end = sentence_start
            for token in _tokens(part.group()):
                start = sentence_start + token.start
                before = text[kept_end:start]
                breaks = list(_CLAUSE_BREAK.finditer(before))
                label = squash(before[breaks[-1].end():] if breaks else before)
                prefix = squash(text[sentence_start:start])
                if token.kind == "rate":
                    item = _classify_rate(label, prefix, ctx)
                else:
                    item = _classify_amount(label, prefix, ctx)
                if item is None:
                    continue
                kept_end = sentence_start + token.end
                figures.append(ReportFigure(item, token.value, None, sentence,
                                            token.written, line.paragraph))
    return figures


# ---------------------------------------------------------------- public

def extract_figures(text: str, indicator_names: Mapping[str, str] | None = None,
                    largest_max: float = LARGEST_INDICATOR_MAX) -> list[ReportFigure]:
    """Every figure the report states, in report order within each kind.

    indicator_names: code → 三级指标 name from the year's framework, so a report that
    heads its paragraphs with the framework's own names is read by them; largest_max: the
    framework's largest 分值 (a stated score above it is the total).
    """
    text, lines = _layout(normalise_text(text))
    if not lines:
        return []
    return (_title_figures(text, lines)
            + _score_figures(text, lines, indicator_names, largest_max)
            + _amount_and_rate_figures(text, lines))


def _name_key(name: str) -> str:
    return squash(normalise_text(name))


def _names_found(words: str, names: Iterable[str]) -> list[str]:
    """Roster names that occur in words, without a name that only occurs inside a longer
    found one (遂溪县人民政府 inside 遂溪县人民政府办公室)."""
    key = _name_key(words)
    found = {name: _name_key(name) for name in names if _name_key(name) and _name_key(name) in key}
    longer = [k for k in found.values()]
    return [name for name, k in found.items()
            if not any(k != other and k in other and key.count(k) == key.count(other)
                       for other in longer)]


def title_block(text: str) -> str:
    """The report's leading lines, up to its first paragraph of body text."""
    block = []
    for line in _layout(normalise_text(text))[1][:12]:
        if len(line.text.strip()) > 60:
            break
        block.append(line.text)
    return "\n".join(block)


def match_unit(text: str, filename: str, unit_names: Iterable[str]) -> str | None:
    """The roster unit a report is about: named in its title lines, else in its file
    name, else in its opening ~500 characters (the name said most often there)."""
    names = list(dict.fromkeys(unit_names))
    block = title_block(text)
    labelled = _UNIT.search(block)
    # the 评价单位 line names the unit itself; a title may also name its 主管部门
    candidates = [labelled.group()] if labelled else []
    for words in (*candidates, block, normalise_text(filename)):
        found = _names_found(words, names)
        if found:
            return max(found, key=lambda n: len(_name_key(n)))
    opening = normalise_text(text)[:500]
    found = _names_found(opening, names)
    if not found:
        return None
    whole = _name_key(text)
    return max(found, key=lambda n: (whole.count(_name_key(n)), len(_name_key(n))))
