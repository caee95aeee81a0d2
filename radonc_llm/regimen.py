"""Read a regimen text (physician's or generated) into dose, fractions, modality, boosts and dose levels.

In three steps (docs/regimen-parser.md): the text is brought to one spelling (`normalise`: units, decimal
commas, number words, labels with their units, tables, other departments' words); the notations every
department writes are read as courses (total over count, dose per fraction times count, total with its dose per
fraction, labels in any order, boosts and dose levels, LDR implants), overlapping readings agreeing; where none
reads, a single course is solved from the text's quantities — each dose's role (per fraction, total, unmarked)
from the words around it, the fraction count, arithmetic that must agree (`_by_quantities`). The Aria summary
the answers end with ("primary, photon, 25.0Gy, fractions:5") wins when present.
What it cannot read it refuses (dose and fractions stay None), never guesses: ranges, alternatives,
a dose without a fraction count, readings that contradict each other, courses outside the window.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .parsing import UNPARSED, parse_modality

NUMBER = r"(\d+(?:\.\d+)?)"
UNIT = r"\s*(c?gy)\b"
# "primary, photon, 25.0Gy, fractions:5" (the Aria summary the answers carry)
SUMMARY = re.compile(rf"\b(primary|boost)\s*,\s*([a-z]+)\s*,\s*{NUMBER}{UNIT}\s*,\s*fractions?\s*:\s*(\d+)", re.I)

CLASSES = ("single fraction", "SBRT/SRS", "hypofractionated", "conventional", "below conventional", "LDR implant")

# The plausibility window, clinical on purpose: at most two fractions a day, five days a week, for seven
# weeks (70: hyperfractionated head and neck courses reach 68); 0.5 Gy (low-dose TBI, lymphoma) to 34 Gy
# per fraction in a single fraction (lung SBRT, RTOG 0915), to 25 Gy per fraction in several (SBRT's
# 20 Gy x 3 and 18 Gy x 3); at most 100 Gy for a fractionated course. LDR
# implants (no fractions) 20-200 Gy (eye plaques 85 Gy, I-125 prostate 145-160 Gy). What lies outside
# (5000 "Gy" that were cGy, 100 Gy per fraction) is refused.
# A run takes its window from the config (`curation.window`, these values by default): curation keeps the
# courses inside it, and the regimen reader reads them.
@dataclass(frozen=True)
class Window:
    max_fractions: int = 70
    min_per_fraction: float = 0.5
    max_single_fraction: float = 34.0
    max_per_fraction: float = 25.0
    max_total: float = 100.0
    implant_min: float = 20.0
    implant_max: float = 200.0


WINDOW = Window()


def gray(value: str, unit: str) -> float:
    return float(value) / 100 if unit.lower() == "cgy" else float(value)


class Boost(NamedTuple):
    total_dose: float
    fractions: int | None  # None: an LDR implant
    modality: str | None


@dataclass
class Regimen:
    total_dose: float | None = None  # Gy, primary course
    fractions: int | None = None  # None with a dose: an LDR implant
    modality: str | None = None  # photon | proton | electron | brachy
    boosts: list[Boost] = field(default_factory=list)  # sequential courses after the primary, added to EQD2
    levels: list[float] = field(default_factory=list)  # other dose levels in the primary's fractions (SIB)
    implant: bool = False

    @property
    def dose_per_fraction(self) -> float | None:
        if self.total_dose is None or not self.fractions:
            return None
        return round(self.total_dose / self.fractions, 4)

    @property
    def fractionation_class(self) -> str | None:
        if self.implant:
            return "LDR implant"
        return fractionation_class(self.total_dose, self.fractions)

    def eqd2(self, alpha_beta: float = 10.0) -> float | None:
        """EQD2 of the primary course and its boosts: D (d + a/b) / (2 + a/b), summed. None for LDR
        implants (their biological dose depends on the isotope's decay, not on a fraction size)."""
        if self.dose_per_fraction is None or any(b.fractions is None for b in self.boosts):
            return None
        parts = [(self.total_dose, self.fractions)] + [(b.total_dose, b.fractions) for b in self.boosts]
        return round(sum(d * (d / n + alpha_beta) / (2 + alpha_beta) for d, n in parts), 4)


def fractionation_class(total: float | None, fractions: int | None) -> str | None:
    """single fraction; SBRT/SRS (>= 5 Gy per fraction in <= 8); hypofractionated (> 2.2 Gy);
    conventional (1.8-2.2 Gy); below conventional (< 1.8 Gy, e.g. hyperfractionation)."""
    if total is None or not fractions:
        return None
    d = total / fractions
    if fractions == 1:
        return "single fraction"
    if d >= 5 and fractions <= 8:
        return "SBRT/SRS"
    if d > 2.2 + 1e-9:
        return "hypofractionated"
    if d >= 1.8 - 1e-9:
        return "conventional"
    return "below conventional"


def plausible(total: float, fractions: int, window: Window = WINDOW) -> bool:
    """Inside the clinical window (above)."""
    ceiling = window.max_single_fraction if fractions == 1 else window.max_per_fraction
    return (1 <= fractions <= window.max_fractions and total <= window.max_total
            and window.min_per_fraction <= total / fractions <= ceiling)


# --- normalisation: one spelling for units, numbers and fraction words ---------------------------------
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"twenty-five": 25, "twenty five": 25, "thirty": 30, "thirty-three": 33, "thirty-five": 35,
                      "twenty-eight": 28, "forty": 40})
_FW = (r"(?:fractions?|fx(?:s|\b)|fr\b|f\b|#|treatments?|sessions?|insertions?|applications?|fraktion(?:en)?|"
       r"s[ée]ances?|sitzungen|frazioni|fracciones|fra[çc](?:ões|oes|ão|ao)|fraktioner|fracties?)")
_ADJ = r"(?:(?:daily|once[- ]daily|twice[- ]daily|once[- ]weekly|weekly|bid|tid|consecutive|equal|separate)\s+)*"
_DOSE_AHEAD = r"(?=\d+(?:[.,]\d+)?\s*c?gy\b)"
_SPACES = re.compile(r"[ \t\u00a0]{2,}|[\t\u00a0]")  # tabs, runs of spaces, no-break spaces: one space
# physics notation, read before case is lost: D = 50 Gy (total), d = 2 Gy (per fraction), n = 25 (count)
_PHYSICS_NOTATION = tuple((re.compile(p), r) for p, r in (
    (r"\bD\s*=\s*(?=\d)", "total dose "), (r"\bd\s*=\s*(?=\d)", "dose per fraction "),
    (r"\bn\s*=\s*(?=\d+(?![\d.]))", "fractions: ")))
_NORMALISE = (
    (r"(?<=\d|y)\s*\*\s*(?=\d)", " x ", ("*",)),  # 2 Gy * 25, 25 * 2 Gy
    (r"[*_`]+(?=\w|\s|:)", " ", ("*", "_", "`")),  # markdown emphasis around labels
    (r"[\"{}]", " ", ('"', "{", "}")),  # JSON: {"dose": "45 Gy", "fractions": 25}
    (r"(?<=[a-z)\]])\s*\|\s*(?=\d)", ": ", ("|",)),  # a markdown table's label cell, then its value
    (r"\|", ";", ("|",)),
    # the unit in a label ("Dose (cGy): 4500", "Total dose [Gy] 54"): written after its number instead
    (r"[(\[]\s*(c?gy)\s*[)\]]\s*[:=]?\s*(\d+(?:[.,]\d+)?)(?![\d.,]*\s*(?:c?gy|%))", r": \2 \1", ("(", "[")),
    # German and French labels and words: Einzeldosis (ED) and Gesamtdosis (GD), "Fr. à 3 Gy", "en 25 séances"
    (rf"\b(?:ed|einzeldosis)\s*[:=]?\s*{_DOSE_AHEAD}", "dose per fraction ", ("ed",)),
    (rf"\b(?:gd|gesamtdosis)\s*[:=]?\s*{_DOSE_AHEAD}", "total dose ", ("gd", "gesamtdosis")),
    (r"\bfr\.", "fr", ("fr.",)),
    (rf"(?<=[a-z#])\s+(?:à|zu|de|di|van)\s+{_DOSE_AHEAD}", " of ", ("à", "zu", "de", "di", "van")),
    (r"\b(?:en|em|på)\s+(?=\d)", "in ", ("en", "em", "på")),
    (r"(?<=\d),(?=\d{3}(?!\d)(?!\s*gy\b))", "", (",",)),  # 5,040 cGy (but 2,625 Gy: no Gy value has thousands)
    (r"(?<=\d)-(?=c?gy\b)", " ", ("-",)),  # 25-Gy
    (r"(?<=\d),(?=\d{1,2}\s*c?gy|\d{3}\s*gy\b)", ".", (",",)),  # 50,4 Gy, 2,625 Gy (decimal comma)
    (r"c?gy\s*[(\[]\s*(?:rbe|e)\s*[)\]]|gy\s*rbe\b|gye\b|\bcge\b|cobalt gr[ae]y equivalents?", "gy",
     ("rbe", "gye", "cge", "cobalt", "(e", "[e")),
    (r"\bcentigr[ae]ys?\b", "cgy", ("centigr",)),
    (r"\bgr[ae]ys?\b", "gy", ("gray", "grey")),
    (r"concomitant boost", "concomitant-schedule", ("concomitant",)),  # a schedule's name, not a boost course
    (r"\b(?:a\s+)?single[- ](?:fraction|dose|session|treatment|shot)s?\b|\bsingle\s+fx\b", " 1 fx ", ("single",)),
    (r"\b(?:in\s+)?(?:a|one)\s+(?:single\s+)?(?:fraction|session|treatment)\b", " in 1 fx ",
     ("fraction", "session", "treatment")),
)
# each rule with the strings one of which the text must hold for the rule to apply (most texts need few rules)
_NORMALISE = tuple((re.compile(p, re.I), r, re.compile("|".join(map(re.escape, needs)))) for p, r, needs in _NORMALISE)
_WORDS = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
# "ten fractions", "thirty gy", "five by five gy", "fractions: five"
_WORD_COUNT = re.compile(rf"\b({_WORDS})(?=\s+(?:{_ADJ}{_FW}|c?gy\b|(?:x|by)\s+(?:\d|(?:{_WORDS})\b)))"
                         rf"|(?<=[:=] )({_WORDS})\b(?![\w-])")
_BY = re.compile(rf"(?<=\d)\s+by\s+{_DOSE_AHEAD}")  # "5 by 5 gy"
# a range of doses or of counts; not a list's bullet at a line's start, nor a dose, a hyphen and a count ("50 Gy -
# 25 fractions", a course)
_RANGE = re.compile(rf"(?:\bbetween\s+\d+(?:\.\d+)?\s*(?:c?gy)?\s*and|\d+(?:\.\d+)?[ \t]*(?:-|to))\s*"
                    rf"\d+(?:\.\d+)?(?=\s*(?:c?gy|{_ADJ}{_FW}))"
                    rf"|\d+(?:\.\d+)?[ \t]*c?gy[ \t]*(?:-|to)\s*\d+(?:\.\d+)?(?=\s*c?gy)")


def normalise(text: str) -> str:
    s = str(text)
    if "=" in s:
        for pattern, repl in _PHYSICS_NOTATION:
            s = pattern.sub(repl, s)
    s = " " + _SPACES.sub(" ", s).replace("×", " x ").replace("–", "-").replace("—", "-").replace("−", "-") \
        .lower() + " "
    for pattern, repl, needs in _NORMALISE:
        if needs.search(s):
            s = pattern.sub(repl, s)
    s = _WORD_COUNT.sub(lambda m: str(_NUMBER_WORDS[m.group(1) or m.group(2)]), s)
    s = _BY.sub(" x ", s)
    # A range ("40-50 Gy", "25 to 28 fractions", "between 60 and 70 Gy") is no prescription: masked out,
    # unless the number before "to" is a count ("2 gy x 25 to 50 gy") or a per-fraction dose ("2 gy to 50 gy").
    def masked(m):
        kept = re.match(r"\d+(?:\.\d+)?\s*c?gy\s+to\b", m.group(0)) or (
            re.match(r"\d+\s+to\b", m.group(0)) and re.search(r"(?:\bx|\btimes)\s*$", s[:m.start()])
            and re.match(r"\s*c?gy", s[m.end():]))
        return m.group(0) if kept else " range "
    return _RANGE.sub(masked, s)


# --- course patterns on the normalised text -------------------------------------------------------------
D = r"(?<![\w.\-])(\d+(?:\.\d+)?)\s*(c?gy)\b"  # a dose; a leading minus makes it no dose
D2 = r"(\d+(?:\.\d+)?)\s*(c?gy)\b"
K = rf"(?<![\d.])(\d+)\s*{_ADJ}{_FW}"  # a fraction count with its word
PF = (rf"(?:(?:per|/|a|each|every)\s*(?:fraction|fx|fr\b|f\b|#|day|treatment|session|insertion|application|"
      rf"implant)|each\b|"
      rf"/\s*fraction|daily|qd\b|bid\b|"
      rf"b\.i\.d\.?|twice[- ]daily|tid\b|{_ADJ}(?:fractions?\b|fx\b|fr\b|#)(?!\s*[:=]?\s*\d))")  # not "fx 15"
GAP = r"(?:(?!\d+(?:\.\d+)?\s*c?gy)[^;\n]){1,60}?"
NOT_TIME = r"(?!\s*(?:days?|weeks?|months?|%|\.\d|\d))"
LEVEL = r"\d+(?:\.\d+)?(?:\s*c?gy)?(?:\s+to\s+(?:the\s+)?[\w\-]+(?:\s+[\w\-]+){0,2}?)?"

_TOTAL_COUNT = (
    re.compile(rf"{D}\s*(?:/|\bin\b|\bover\b|,|;|\b(?:delivered|given|administered)\s+(?:in|over)\b)?\s*{K}"),
    re.compile(rf"{D}\s*/\s*(\d+)(?![\d.]|\s*(?:c?gy|-|%|weeks?\b|wks?\b|w\b|days?\b|d\b|months?\b))"),
    re.compile(rf"{D}\s+(?:to|for)\b{GAP}(?:\s(?:in|over)\s*|\s*/\s*|\s*,\s*){K}"),
)
# "single fraction SBRT 34 Gy", "single dose of 8 Gy": one fraction, so total and per fraction agree
_ONE_FRACTION_THEN_DOSE = re.compile(rf"(?<![\d.])1\s*fx\s+(?:of\s+)?(?:[a-z\-]+\s+){{0,3}}{D2}")
_PER_FRACTION_TIMES = (
    re.compile(rf"{D}\s*(?:{PF}\s*)?(?:x|times)\s*(\d+){NOT_TIME}(?:\s*{_ADJ}{_FW})?"),
    re.compile(rf"{D}\s*{PF}\s*(?:for|over|in)\s*{K}"),
)
_TIMES_PER_FRACTION = (
    re.compile(rf"(?<![\d.])(\d+)\s*(?:{_ADJ}{_FW}\s*)?(?:x|times)\s*{D2}"),
    re.compile(rf"{K}\s*(?:of|at|@)\s*{D2}"),
)
_TOTAL_AND_PER_FRACTION = re.compile(rf"{D}\s*(?:\bin\b|\bat\b|@|\busing\b|\bwith\b|,|\()\s*(?:a\s+)?{D2}\s*{PF}")
_PER_FRACTION_TO_TOTAL = re.compile(
    rf"{D}\s*{PF}\s*(?:to|for|,)?\s*(?:a\s+)?(?:total(?:\s+dose)?(?:\s+of)?|cumulative(?:\s+dose)?(?:\s+of)?|"
    rf"dose\s+of)?\s*{D2}")
_COUNT_TO_TOTAL = re.compile(rf"{K}\s*(?:to|totall?ing|for a total of|to a total(?:\s+dose)? of)\s*{D2}")
STRUCTURE = r"(?:(?:ptv|ctv|gtv|itv)[\w\-.]*\s*[:=]?\s*)?"  # "PTV1 70 Gy, PTV2 63 Gy, PTV3 56 Gy, 35 fx"
_LEVELS = re.compile(rf"(?<![\w.\-])({LEVEL}(?:\s*(?:,\s*and|,|\band\b|/)\s*{STRUCTURE}{LEVEL})+)"
                     rf"\s*(?:\bin\b|\bover\b|/|,)\s*{K}")
_DOSE_LABEL = r"(?:total dose|prescription dose|prescribed dose|dose|total|rx)\s*[:=]?\s*"
_FRACTION_WORDS = r"(?:(?:number of|no\.? of|# of)\s+(?:fractions?|fx|fr)|(?<!per )fractions?|fx|\bfr)"
_FRACTION_LABEL = rf"{_FRACTION_WORDS}\s*[:=]\s*"  # "fractions: 25"
_FRACTION_LABEL_LOOSE = rf"{_FRACTION_WORDS}\s*[:=]?\s*"  # also "fractions 25"
COUNT = r"(\d+)(?!\d|\.\d|\s*c?gy)"  # a labelled count: no decimal, no dose
# a label that marks its dose per fraction
_PER_LABEL_TEXT = r"(?:dose per (?:fraction|fx|fr|f|day)|fraction dose|dose/f(?:x|raction)|daily dose)\s*[:=]?\s*"
_LABELS = (
    (re.compile(rf"{_DOSE_LABEL}{D2}[^\d]{{0,30}}?{_FRACTION_LABEL}{COUNT}"), "total"),
    (re.compile(rf"{_FRACTION_LABEL}{COUNT}[^\d]{{0,30}}?(?<!boost ){_DOSE_LABEL}{D2}"), "count_total"),
    (re.compile(rf"boost(?:\s+dose)?\s*[:=]?\s*{D2}[^\d]{{0,30}}?boost\s+{_FRACTION_LABEL}{COUNT}"), "total"),
    # a total and its dose per fraction by their labels: "GD 50 Gy, ED 2 Gy", "dose per fraction 3 Gy, total 30 Gy"
    (re.compile(rf"{D}\s*[,;]?\s*(?:and\s+)?{_PER_LABEL_TEXT}{D2}"), "total_per"),
    (re.compile(rf"{_PER_LABEL_TEXT}{D}\s*[,;.]?\s*(?:and\s+)?(?:total dose|total)\s*[:=]?\s*{D2}"), "per_total"),
    (re.compile(rf"{_PER_LABEL_TEXT}{D2}[^\d]{{0,30}}?{_FRACTION_LABEL_LOOSE}{COUNT}"),
     "per_fraction"),
)

SEPARATOR = re.compile(r";|\.(?!\d)|\n|,|\bfollowed by\b|\bthen\b|\bafter\b|\bplus\b|\+|\bwith\b|\bor\b|\boption\b")
ALTERNATIVE = re.compile(r"\bor\b|\boption\b|\balternative(?:ly)?\b|\beither\b")
BOOST = re.compile(r"\bboost|\bphase\s*(?:2|ii)\b|\bcone[- ]down\b|\bsequential\b")
TARGET = re.compile(r"\b(?:p?gtv|p?ctv|ptv|itv)")
SIMULTANEOUS = re.compile(r"\bsib\b|simultaneous|integrated boost|dose[- ]paint")
LDR_CUE = re.compile(r"\bldr\b|\bseeds?\b|permanent implant|low[- ]dose[- ]rate|\bi-?125\b|iodine-?125|\bpd-?103\b|"
                     r"palladium|\bcs-?131\b|cesium-?131|caesium")
RBE_UNIT = re.compile(r"gy\s*[(\[]\s*(?:rbe|e)\s*[)\]]|gy\s*rbe\b|gye\b|\bcge\b|cobalt gr[ae]y equivalent", re.I)


@dataclass
class _Course:
    start: int
    end: int
    total: float
    fractions: int
    levels: tuple[float, ...] = ()
    encloses: bool = False  # a dose-level list: patterns inside it read parts of it


def _whole(total: float, per: float) -> int | None:
    n = total / per if per else 0
    return round(n) if n >= 0.5 and abs(n - round(n)) < 0.05 else None


# a dose that a label marks as per fraction ("dose per fraction 5 Gy, 5 fractions") is never a course's total
_PER_LABEL = re.compile(_PER_LABEL_TEXT + "$")


def _per_labelled(s: str, at: int) -> bool:
    return bool(_PER_LABEL.search(s, max(0, at - 30), at))


def _candidates(s: str) -> list[_Course]:
    out = []
    for m in _LEVELS.finditer(s):
        doses = re.findall(r"(\d+(?:\.\d+)?)(?:\s*(c?gy))?(?:\s+to\b[^,/]*?)?(?=\s*(?:,|\band\b|/|\bin\b|\bover\b|$))",
                           m.group(1))
        unit = next((u for _, u in reversed(doses) if u), None)
        if unit is None or len(doses) < 2:
            continue
        values = [gray(v, u or unit) for v, u in doses]
        out.append(_Course(m.start(), m.end(), values[0], int(m.group(2)), tuple(values[1:]), encloses=True))
    for pattern in _TOTAL_COUNT:
        for m in pattern.finditer(s):
            if not _per_labelled(s, m.start(1)):
                out.append(_Course(m.start(), m.end(), gray(m.group(1), m.group(2)), int(m.group(3))))
    for m in _ONE_FRACTION_THEN_DOSE.finditer(s):
        out.append(_Course(m.start(), m.end(), gray(m.group(1), m.group(2)), 1))
    for pattern in _PER_FRACTION_TIMES:
        for m in pattern.finditer(s):
            n = int(m.group(3))
            out.append(_Course(m.start(), m.end(), gray(m.group(1), m.group(2)) * n, n))
    for pattern in _TIMES_PER_FRACTION:
        for m in pattern.finditer(s):
            n = int(m.group(1))
            out.append(_Course(m.start(), m.end(), gray(m.group(2), m.group(3)) * n, n))
    for m in _TOTAL_AND_PER_FRACTION.finditer(s):
        total, per = gray(m.group(1), m.group(2)), gray(m.group(3), m.group(4))
        out.append(_Course(m.start(), m.end(), total, _whole(total, per) or -1))
    for m in _PER_FRACTION_TO_TOTAL.finditer(s):
        per, total = gray(m.group(1), m.group(2)), gray(m.group(3), m.group(4))
        if total > per:
            out.append(_Course(m.start(), m.end(), total, _whole(total, per) or -1))
    for m in _COUNT_TO_TOTAL.finditer(s):
        if not _per_labelled(s, m.start(2)):
            out.append(_Course(m.start(), m.end(), gray(m.group(2), m.group(3)), int(m.group(1))))
    for pattern, kind in _LABELS:
        for m in pattern.finditer(s):
            if kind in ("total_per", "per_total"):
                first, second = gray(m.group(1), m.group(2)), gray(m.group(3), m.group(4))
                total, per = (first, second) if kind == "total_per" else (second, first)
                out.append(_Course(m.start(), m.end(), total, _whole(total, per) or -1))
            elif kind == "count_total":
                out.append(_Course(m.start(), m.end(), gray(m.group(2), m.group(3)), int(m.group(1))))
            elif kind == "total" and not _per_labelled(s, m.start(1)):
                out.append(_Course(m.start(), m.end(), gray(m.group(1), m.group(2)), int(m.group(3))))
            else:
                n = int(m.group(3))
                out.append(_Course(m.start(), m.end(), gray(m.group(1), m.group(2)) * n, n))
    return sorted(out, key=lambda c: (c.start, -(c.end - c.start)))


def _same(a: _Course, b: _Course) -> bool:
    return a.fractions == b.fractions and abs(a.total - b.total) < 0.01 * max(a.total, 1e-9) + 1e-6


def _courses(s: str) -> list[_Course] | None:
    """The courses in reading order; overlapping readings must agree (None: they contradict)."""
    groups: list[_Course] = []
    for c in _candidates(s):
        last = groups[-1] if groups else None
        if last is not None and c.start < last.end:
            if last.encloses and c.end <= last.end:
                continue
            if not _same(last, c):
                return None
            last.end = max(last.end, c.end)
            continue
        groups.append(_Course(c.start, c.end, c.total, c.fractions, c.levels, c.encloses))
    if any(c.fractions < 0 for c in groups):
        return None  # a total that is no whole number of its fractions
    return groups


def _segments(s: str, courses: list[_Course]) -> list[tuple[int, int]]:
    """Each course's own clause: from the separator before it to the separator after it."""
    spans = []
    for i, c in enumerate(courses):
        lo = courses[i - 1].end if i else 0
        hi = courses[i + 1].start if i + 1 < len(courses) else len(s)
        before = [m.end() for m in SEPARATOR.finditer(s, lo, c.start)]
        after = SEPARATOR.search(s, c.end, hi)
        spans.append((before[-1] if before else lo, after.start() if after else hi))
    return spans


def _modality(text: str) -> str | None:
    found = parse_modality(text)
    return None if found == UNPARSED else found


def _implant_dose(s: str, window: Window) -> float | None:
    doses = {gray(v, u) for v, u in re.findall(D, s)}
    if len(doses) == 1 and LDR_CUE.search(s):
        dose = doses.pop()
        return dose if window.implant_min <= dose <= window.implant_max else None
    return None


# --- quantities: a single course read from its doses and counts, where no phrase pattern matched --------
_Q_DOSE = re.compile(D)
_Q_PER_AFTER = re.compile(rf"\s*(?:-\s*)?{PF}")  # the phrase patterns' per-fraction marks
_Q_PER_BEFORE = re.compile(r"(?:\bat|@|\bof|\bas|\bper (?:fraction|fx|fr|f|day)|\bdaily|twice[- ]daily|\bbid|\btid)"
                           r"\s*[:=]?\s*$|" + _PER_LABEL_TEXT + "$")
_Q_TOTAL_BEFORE = re.compile(r"(?:\btotal(?:\s+dose)?|\bcumulative(?:\s+dose)?|\bto|=|\bdose)\s*[:=]?\s*(?:of\s*)?$")
_Q_TOTAL_AFTER = re.compile(r"\s*(?:in\s+)?(?:total|cumulative)\b")
_Q_COUNT = (re.compile(rf"(?<![\d.])(\d+)\s*{_ADJ}{_FW}(?![a-z])(?!\s*(?:per|a|each)\s+(?:week|day))"),  # 30 fx, 20 fr
            re.compile(rf"{_FRACTION_LABEL_LOOSE}{COUNT}"),
            re.compile(rf"(?:\bx|\btimes)\s*(\d+){NOT_TIME}(?!\s*c?gy)"),  # 7.25 gy x 5, 4 gy daily x 5
            re.compile(r"(?<![\d.])(\d+)\s*(?:f\s*|fx\s*|fr\s*)?x\s*(?=\d+(?:\.\d+)?\s*c?gy)"))  # 35 x 2 gy
# a product: "2 gy x 25", "2 gy to the whole pelvis x 25", "35 x 2 gy", "5 fx x 5 gy"
_Q_TIMES_AFTER = re.compile(r"(?:\s+(?:to\s+)?(?:the\s+)?[a-z\-]+\b){0,3}\s*(?:\bx|\btimes)\s*\d")
_Q_TIMES_BEFORE = re.compile(r"\d\s*(?:f|fx|fr)?\s*x\s*$")
_Q_DURATION = re.compile(r"(?<![\d.])\d+(?:\.\d+)?\s*(?:weeks?|wks?|days?|months?)\b")
_Q_DAYS = re.compile(r"\bfor\s+(\d+)\s+(?:consecutive\s+|treatment\s+|working\s+)?days\b")
_Q_PER_DAY = re.compile(r"\s*(?:(?:a|per|/|each)\s*day\b|daily\b|qd\b)")
_Q_SEVERAL_A_DAY = re.compile(r"\bbid\b|b\.i\.d|\btid\b|twice|three times|\bhourly|\bq\s*\d+\s*h")
# "8 gy once", "16 gy, single", "single 10 gy" (not "once weekly")
_Q_ONCE = re.compile(r"c?gy\s*,?\s+(?:once|single|einmalig|einzeitig)\b"
                     r"(?![- ](?:weekly|daily|a (?:week|day)|per (?:week|day)))"
                     r"|\bsingle\s+(?:[a-z\-]+\s+)?\d+(?:\.\d+)?\s*c?gy")


def _by_quantities(s: str) -> tuple[float, int] | None:
    """A single course from the doses and the fraction counts of normalised text `s`, chosen by arithmetic: a
    dose marked per fraction times the count, a total with its count, or a total over a dose per fraction;
    every reading must agree and every dose be used, else nothing (a count before the dose with nothing that
    links them stays unread, as do two counts or a lone dose)."""
    found = list(_Q_DOSE.finditer(s))
    if not found or re.search(r"\brange\b", s):  # normalise() masks ranges as "range"
        return None
    # durations are no quantities ("over 4 weeks"); blanked to the same length, so positions hold
    days = _Q_DAYS.search(s)
    s = _Q_DURATION.sub(lambda m: " " * len(m.group(0)), s)
    count_at = [(int(m.group(1)), m.start()) for pattern in _Q_COUNT for m in pattern.finditer(s)]
    counts = {n for n, _ in count_at} | ({1} if _Q_ONCE.search(s) else set())
    once_a_day = [m for m in found if _Q_PER_DAY.match(s, m.end())]
    if not counts and days and len(once_a_day) == 1 and not _Q_SEVERAL_A_DAY.search(s):
        counts = {int(days.group(1))}  # "3 Gy per day for 10 days": one fraction a day
    if len(counts) > 1:
        return None
    per, totals, unmarked = [], [], []
    for m in found:
        value, before, after = gray(m.group(1), m.group(2)), s[max(0, m.start() - 25):m.start()], s[m.end():]
        product = _Q_TIMES_AFTER.match(after) or _Q_TIMES_BEFORE.search(before)
        if _Q_PER_AFTER.match(after) or _Q_PER_BEFORE.search(before) or product:
            per.append(value)
        elif _Q_TOTAL_BEFORE.search(before) or _Q_TOTAL_AFTER.match(after):
            totals.append(value)
        else:
            unmarked.append((value, m.start(), m.end()))
    if counts:
        n = counts.pop()
        # an unmarked dose is a total just before its count ("62 gy en 20 f"), or where it is the per-fraction
        # dose times the count ("30 gy given as 3 gy per day for 10 days"); never after or far from an unlinked count
        for value, start, end in unmarked:
            if not any(end <= c <= end + 30 and not re.search(r"\d", s[end:c]) for _, c in count_at) and \
                    not _Q_ONCE.search(s[max(0, start - 20):end + 10]) and \
                    not any(abs(value - p * n) <= 0.01 * value for p in per):
                return None
        readings = [v * n for v in per] + totals + [v for v, *_ in unmarked]
    else:
        if len(per) != 1 or len(totals) + len(unmarked) != 1:
            return None
        total = (totals or [v for v, *_ in unmarked])[0]
        n = _whole(total, per[0])
        if n is None or total <= per[0]:
            return None
        readings = [total]
    if not readings or max(readings) - min(readings) > 0.01 * max(readings):
        return None
    return readings[0], n


def _target_levels(rest: str) -> list[float]:
    """Dose levels given to their own target volumes after the primary course, in its clause ("66 gy in 33
    fractions to the high-risk ctv and 54 gy to the low-risk ctv"): a dose with no per-fraction mark whose
    next words name a target volume."""
    return [round(gray(m.group(1), m.group(2)), 4) for m in _Q_DOSE.finditer(rest)
            if not _Q_PER_AFTER.match(rest, m.end()) and TARGET.search(rest, m.end(), m.end() + 40)
            and not re.match(r"\s*(?:\(|\bin\b|/|,)\s*\d", rest[m.end():])]


def _read_free_text(text: str, regimen: Regimen, fallback_modality: str | None, window: Window) -> None:
    s = normalise(text)
    courses = _courses(s)
    if courses is None:
        return
    if not courses:
        dose = _implant_dose(s, window)
        if dose is not None:
            regimen.total_dose, regimen.implant, regimen.modality = dose, True, "brachy"
            return
        found = _by_quantities(s)
        if found and plausible(*found, window):
            regimen.total_dose, regimen.fractions = round(found[0], 4), found[1]
            regimen.modality = _modality(text) or fallback_modality or ("proton" if RBE_UNIT.search(text) else None)
        return
    if not all(plausible(c.total, c.fractions, window) for c in courses):
        return
    spans = _segments(s, courses)
    for i in range(1, len(courses)):  # "20 Gy in 5 fractions or 30 Gy in 10": alternatives, not a plan
        if ALTERNATIVE.search(s, courses[i - 1].end,
            courses[i].start) or ALTERNATIVE.search(s[spans[i][0]:spans[i][1]]):
            return
    flagged = [bool(BOOST.search(s[a:b])) and not SIMULTANEOUS.search(s[a:b]) for a, b in spans]
    first = next((i for i, f in enumerate(flagged) if not f), 0)
    primary = courses[first]
    regimen.total_dose, regimen.fractions = round(primary.total, 4), primary.fractions
    regimen.levels = [round(v, 4) for v in primary.levels] + _target_levels(s[primary.end:spans[first][1]])
    boost_text = []
    seen = {(round(primary.total, 2), primary.fractions)}
    for i, c in enumerate(courses):
        a, b = spans[i]
        if i == first or (round(c.total, 2), c.fractions) in seen:
            continue
        seen.add((round(c.total, 2), c.fractions))
        # a second dose level in the same fractions: named simultaneous, or given to its own target volume
        # ("PGTV 60 Gy/30 F, PTV 54 Gy/30 F") without a boost's words
        if c.fractions == primary.fractions and (SIMULTANEOUS.search(s[a:b]) or (
                TARGET.search(s[a:b]) and not BOOST.search(s[a:b]))):
            regimen.levels.append(round(c.total, 4))
            continue
        # a boost's own words and the orphan clause after it ("... boost of 10 Gy/5 fx, with electrons")
        tail_end = courses[i + 1].start if i + 1 < len(courses) else len(s)
        tail = s[b:tail_end] if not any(ch.isdigit() for ch in s[b:tail_end]) else ""
        regimen.boosts.append(Boost(round(c.total, 4), c.fractions, _modality(s[a:b] + tail)))
        boost_text.append((a, b + len(tail)))
    # orphan clauses: a simultaneous boost dose without its own count, an LDR seed boost
    taken = [(c.start, c.end) for c in courses] + list(spans)
    cuts = [0] + [x for m in SEPARATOR.finditer(s) for x in m.span()
                  if not any(a < m.start() < b for a, b in [(c.start, c.end) for c in courses])] + [len(s)]
    for a, b in zip(cuts[:-1], cuts[1:]):
        if any(a < y and x < b for x, y in taken):
            continue
        clause = s[a:b]
        doses = [gray(v, u) for v, u in re.findall(D, clause)]
        if len(doses) == 1 and SIMULTANEOUS.search(clause):
            regimen.levels.append(round(doses[0], 4))
        elif len(doses) == 1 and BOOST.search(clause) and LDR_CUE.search(clause):
            dose = _implant_dose(clause, window)
            if dose is not None:
                regimen.boosts.append(Boost(dose, None, "brachy"))
                boost_text.append((a, b))
    rest = "".join(ch if not any(x <= i < y for x, y in boost_text) else " " for i, ch in enumerate(s))
    a, b = spans[first]
    regimen.modality = (_modality(s[a:b]) or _modality(rest) or fallback_modality
                        or ("proton" if RBE_UNIT.search(text) else None))


def parse_regimen(text: str, window: Window = WINDOW) -> Regimen:
    """The primary course, its boosts and modality as far as `text` says them unambiguously; a course outside
    `window` (the run's `curation.window`) is not read."""
    text = str(text or "")
    regimen = Regimen(modality=_modality(text))
    summaries = SUMMARY.findall(text)
    for kind, technique, dose, unit, n in summaries:
        total, fractions = gray(dose, unit), int(n)
        if not plausible(total, fractions, window):
            continue
        if kind.lower() == "primary" and regimen.total_dose is None:
            regimen.total_dose, regimen.fractions = total, fractions
            regimen.modality = _modality(technique) or regimen.modality
        elif kind.lower() == "boost":
            regimen.boosts.append(Boost(total, fractions, _modality(technique)))
    if regimen.total_dose is not None:
        return regimen
    regimen.boosts = []  # a summary whose course is implausible names at most the modality
    named = next((m for m in (_modality(technique) for kind, technique, *_ in summaries) if m), None)
    _read_free_text(SUMMARY.sub(" ", text), regimen, named, window)
    return regimen


GRADE_4_EQD2_DEVIATION = 0.25  # both modality and class off, and EQD2 off by more than this share: grade 4


def proxy_grade(reference: Regimen, generated: Regimen, alpha_beta: float = 10.0) -> int | None:
    """The paper's 1-5 scale from what can be read (None if the physician's regimen itself cannot):
    1 modality and fractionation class both right; 2 one of them off; 3 both off; 4 both off and the
    EQD2 more than 25 % away from the physician's; 5 no dose or no modality recoverable.
    An LDR implant is its own class; with one on either side EQD2 is undefined, so both off is grade 3."""
    if reference.fractionation_class is None or reference.modality is None:
        return None
    if generated.fractionation_class is None or generated.modality is None:
        return 5
    misses = ((generated.modality != reference.modality)
              + (generated.fractionation_class != reference.fractionation_class))
    if misses < 2:
        return 1 + misses
    gen, ref = generated.eqd2(alpha_beta), reference.eqd2(alpha_beta)
    if gen is None or ref is None:
        return 3
    return 4 if abs(gen - ref) / ref > GRADE_4_EQD2_DEVIATION else 3


def compare(reference_text: str, generated_text: str, alpha_beta: float = 10.0, window: Window = WINDOW) -> dict:
    """One case's automatic regimen comparison: matches, |delta EQD2| and the proxy grade (both regimens read
    within `window`, the one curation kept the courses by)."""
    ref, gen = parse_regimen(reference_text, window), parse_regimen(generated_text, window)
    both = ref.eqd2(alpha_beta) is not None and gen.eqd2(alpha_beta) is not None
    return {"ref_dose": ref.total_dose, "ref_fractions": ref.fractions, "ref_modality": ref.modality,
            "ref_class": ref.fractionation_class, "gen_dose": gen.total_dose, "gen_fractions": gen.fractions,
            "gen_modality": gen.modality, "gen_class": gen.fractionation_class,
            "dose_match": gen.total_dose is not None and ref.total_dose is not None
            and abs(gen.total_dose - ref.total_dose) < 1e-6,
            "fractions_match": (gen.fractions is not None and gen.fractions == ref.fractions)
            or (gen.implant and ref.implant),
            "modality_match": gen.modality is not None and gen.modality == ref.modality,
            "abs_delta_eqd2": abs(gen.eqd2(alpha_beta) - ref.eqd2(alpha_beta)) if both else None,
            "proxy_grade": proxy_grade(ref, gen, alpha_beta)}
