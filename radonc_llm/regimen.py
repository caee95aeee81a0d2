"""Read a regimen text (physician's or generated) into dose, fractions, modality and boosts.

The forms real notes use: "25 Gy/ 5 fx", "50 Gy in 25 fractions", "60Gy/30", "7 Gy x 4",
"40.05 Gy/15 fx", "5040 cGy in 28 fractions", and the delivered-prescription summary the answers
end with: "primary, photon, 25.0Gy, fractions:5" (boosts: "boost, electron, 10.0Gy, fractions:5").
The summary wins when present; otherwise the first dose-with-fractions in the free text. What
cannot be read stays None: a text that gives no dose and fraction count is refused, not guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .parsing import UNPARSED, parse_modality

NUMBER = r"(\d+(?:\.\d+)?)"
UNIT = r"\s*(c?gy)\b"
# "primary, photon, 25.0Gy, fractions:5" (the Aria summary the answers carry)
SUMMARY = re.compile(rf"\b(primary|boost)\s*,\s*([a-z]+)\s*,\s*{NUMBER}{UNIT}\s*,\s*fractions?\s*:\s*(\d+)", re.I)
# "25 Gy/ 5 fx", "50 Gy in 25 fractions", "60Gy/30"
TOTAL_OVER_N = re.compile(rf"{NUMBER}{UNIT}\s*(?:/|in|over)\s*(\d+)(?![\d.]|\s*c?gy)", re.I)
# "7 Gy x 4", "7 Gy x 4 fractions", "4 x 7 Gy": dose per fraction times a count
PER_FRACTION_TIMES = re.compile(rf"{NUMBER}{UNIT}\s*(?:x|×)\s*(\d+)(?![\d.])", re.I)
TIMES_PER_FRACTION = re.compile(rf"(?<![\d.])(\d+)\s*(?:x|×)\s*{NUMBER}{UNIT}", re.I)
# "45 Gy at 1.8 Gy per fraction", "1.8 Gy per fraction to 45 Gy"
AT_PER_FRACTION = re.compile(rf"{NUMBER}{UNIT}\s*(?:at|@)\s*{NUMBER}{UNIT}\s*(?:per|/)\s*(?:fx|fraction)", re.I)
SINGLE = re.compile(rf"{NUMBER}{UNIT}\s*(?:in\s*)?(?:a\s+)?(?:1|one|single)\s*(?:fx|fraction)", re.I)

CLASSES = ("single fraction", "SBRT/SRS", "hypofractionated", "conventional", "below conventional")


def gray(value: str, unit: str) -> float:
    return float(value) / 100 if unit.lower() == "cgy" else float(value)


@dataclass
class Regimen:
    total_dose: float | None = None  # Gy, primary course
    fractions: int | None = None
    modality: str | None = None  # photon | proton | electron | brachy
    boosts: list[tuple[float, int, str | None]] = field(default_factory=list)

    @property
    def dose_per_fraction(self) -> float | None:
        if self.total_dose is None or not self.fractions:
            return None
        return round(self.total_dose / self.fractions, 4)

    @property
    def fractionation_class(self) -> str | None:
        return fractionation_class(self.total_dose, self.fractions)

    def eqd2(self, alpha_beta: float = 10.0) -> float | None:
        """EQD2 of the primary course and its boosts: D (d + a/b) / (2 + a/b), summed."""
        if self.dose_per_fraction is None:
            return None
        parts = [(self.total_dose, self.fractions)] + [(d, n) for d, n, _ in self.boosts]
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


def plausible(total: float, fractions: int) -> bool:
    """A course a radiation oncologist could prescribe: 0.5-30 Gy per fraction, 1-60 fractions."""
    return 1 <= fractions <= 60 and 0.5 <= total / fractions <= 30 and total <= 200


def parse_regimen(text: str) -> Regimen:
    text = str(text or "")
    modality = parse_modality(text)
    regimen = Regimen(modality=None if modality == UNPARSED else modality)
    summaries = SUMMARY.findall(text)
    for kind, technique, dose, unit, n in summaries:
        total, fractions = gray(dose, unit), int(n)
        mod = parse_modality(technique)
        mod = None if mod == UNPARSED else mod
        if not plausible(total, fractions):
            continue
        if kind.lower() == "primary" and regimen.total_dose is None:
            regimen.total_dose, regimen.fractions = total, fractions
            regimen.modality = mod or regimen.modality
        elif kind.lower() == "boost":
            regimen.boosts.append((total, fractions, mod))
    if regimen.total_dose is not None:
        return regimen
    free = SUMMARY.sub(" ", text)
    candidates = []  # (position, total Gy, fractions)
    for m in AT_PER_FRACTION.finditer(free):
        total, per = gray(m.group(1), m.group(2)), gray(m.group(3), m.group(4))
        candidates.append((m.start(), total, round(total / per)))
    for m in TOTAL_OVER_N.finditer(free):
        candidates.append((m.start(), gray(m.group(1), m.group(2)), int(m.group(3))))
    for m in PER_FRACTION_TIMES.finditer(free):
        per, n = gray(m.group(1), m.group(2)), int(m.group(3))
        candidates.append((m.start(), per * n, n))
    for m in TIMES_PER_FRACTION.finditer(free):
        n, per = int(m.group(1)), gray(m.group(2), m.group(3))
        candidates.append((m.start(), per * n, n))
    for m in SINGLE.finditer(free):
        candidates.append((m.start(), gray(m.group(1), m.group(2)), 1))
    candidates = sorted(c for c in candidates if plausible(c[1], c[2]))
    if candidates:
        _, total, fractions = candidates[0]
        regimen.total_dose, regimen.fractions = round(total, 4), fractions
    return regimen


GRADE_4_EQD2_DEVIATION = 0.25  # both modality and class off, and EQD2 off by more than this share: grade 4


def proxy_grade(reference: Regimen, generated: Regimen, alpha_beta: float = 10.0) -> int | None:
    """The paper's 1-5 scale from what can be read (None if the physician's regimen itself cannot):
    1 modality and fractionation class both right; 2 one of them off; 3 both off; 4 both off and the
    EQD2 more than 25 % away from the physician's; 5 no dose or no modality recoverable."""
    if reference.fractionation_class is None or reference.modality is None:
        return None
    if generated.fractionation_class is None or generated.modality is None:
        return 5
    misses = (generated.modality != reference.modality) + (generated.fractionation_class != reference.fractionation_class)
    if misses < 2:
        return 1 + misses
    deviation = abs(generated.eqd2(alpha_beta) - reference.eqd2(alpha_beta)) / reference.eqd2(alpha_beta)
    return 4 if deviation > GRADE_4_EQD2_DEVIATION else 3


def compare(reference_text: str, generated_text: str, alpha_beta: float = 10.0) -> dict:
    """One case's automatic regimen comparison: matches, |delta EQD2| and the proxy grade."""
    ref, gen = parse_regimen(reference_text), parse_regimen(generated_text)
    both = ref.eqd2(alpha_beta) is not None and gen.eqd2(alpha_beta) is not None
    return {"ref_dose": ref.total_dose, "ref_fractions": ref.fractions, "ref_modality": ref.modality,
            "ref_class": ref.fractionation_class, "gen_dose": gen.total_dose, "gen_fractions": gen.fractions,
            "gen_modality": gen.modality, "gen_class": gen.fractionation_class,
            "dose_match": gen.total_dose is not None and ref.total_dose is not None
            and abs(gen.total_dose - ref.total_dose) < 1e-6,
            "fractions_match": gen.fractions is not None and gen.fractions == ref.fractions,
            "modality_match": gen.modality is not None and gen.modality == ref.modality,
            "abs_delta_eqd2": abs(gen.eqd2(alpha_beta) - ref.eqd2(alpha_beta)) if both else None,
            "proxy_grade": proxy_grade(ref, gen, alpha_beta)}
