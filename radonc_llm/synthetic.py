"""A seeded, synthetic Aria-like cohort: the two raw exports the workflow expects.

Each patient's disease is drawn top-down from `catalogue.py` (site, subtype, organ, side, stage,
code, regimen), so that text, ICD-10 code, stage, modality and regimen agree; the only coding
errors are the ones injected at the rates of `synthetic.coding_noise`, counted in the log. Where a
note names the disease on the border of two ICD-10-CM categories (`synthetic.ambiguity`), a seeded
coder assigns one of the defensible codes per case: ambiguity, not error, also counted in the log.
It carries the mess the paper's curation cleaned: patients with several diagnosis
records, alternative primary plans, boosts and replans, plan information written into
the diagnosis text (with and without the keyword "plan"), ICD-9 codes, stray
punctuation, clinician initials and machine modality labels that no rule can map.
Every patient gets a *fate* first (kept, or the reason curation must drop it) in exact
shares, so the default size lands on the paper's funnel; curation never sees the fate.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import math
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import catalogue
from .catalogue import Catalogue, Organ, Regimen, Site, Stage, Subtype
from .tables import write_csv

log = logging.getLogger(__name__)

# Shares of all extracted patients that curation must drop, by reason (the rest are kept).
# 7,903 of 15,724 patients survive in the paper; these shares reproduce that.
DROP_SHARES = {
    "several_diagnoses": 0.200,
    "no_diagnosis": 0.005,
    "alternative_primary": 0.175,
    "no_primary": 0.056,
    "several_primaries": 0.058,
    "primary_without_dose": 0.0034,
}
P_ICD9 = 0.087  # 7,177 of 7,903 cases keep an ICD-10 code in the paper
P_INVALID_ICD10 = 0.002
P_PLAN_KEYWORD = 0.38  # ~3,000 of 7,903 found by the keyword filter in the paper
P_PLAN_PATTERN = 0.22
P_PLAN_DIFFERS = 0.05  # the written plan is not quite what was delivered
P_PUNCTUATION = 0.15
P_INITIALS = 0.25
P_UNMAPPABLE_MODALITY = 0.004
P_REPLAN = 0.05


def _fmt(x: float) -> str:
    return f"{round(x, 2):g}"


def _fates(n: int, rnd: random.Random) -> list[str]:
    fates = []
    for reason, share in DROP_SHARES.items():
        fates += [reason] * math.floor(n * share)
    fates += ["kept"] * (n - len(fates))
    rnd.shuffle(fates)
    return fates


def _pick_weighted(rnd: random.Random, items, weights):
    return rnd.choices(items, weights=weights, k=1)[0]


NOISE_KINDS = ("wrong_side", "unspecified_side")


@dataclass(frozen=True)
class Drawn:
    """One patient's disease as drawn from the catalogue, before any coding noise."""
    site: Site
    subtype: Subtype
    organ: Organ
    side: str
    stage: Stage
    code: str  # the ICD-10-CM code that matches organ, side and behaviour
    regimens: tuple[Regimen, ...]
    templates: tuple[str, ...] = ()  # the note's templates where a borderline wording has its own, else the subtype's


def draw_disease(rnd: random.Random, site: Site, sex: str) -> Drawn:
    """Top-down: subtype -> organ (of the patient's sex) -> side -> stage -> code; regimens for organ and stage."""
    subtypes = [s for s in site.subtypes if any(o.sex in (None, sex) for o in s.organs)]
    sub = _pick_weighted(rnd, subtypes, [s.weight for s in subtypes])
    organs = [o for o in sub.organs if o.sex in (None, sex)]
    organ = _pick_weighted(rnd, organs, [o.weight for o in organs])
    side = rnd.choice(("left", "right"))
    stage = rnd.choice(organ.stages or sub.stages)
    code = (organ.right if side == "right" else organ.left) if organ.sided else organ.code
    return Drawn(site, sub, organ, side, stage, code, stage.regimens or organ.regimens or sub.regimens)


def code_noise(rnd: random.Random, drawn: Drawn, rates: dict) -> tuple[str, str]:
    """(code, kind): the drawn code, or at the configured rates (share of cases whose organ has a side in
    ICD-10-CM) the other side's code ('wrong_side') or the unspecified-side code ('unspecified_side')."""
    if not drawn.organ.sided or drawn.organ.left == drawn.organ.right:  # e.g. Z85.3, a history code has no side
        return drawn.code, ""
    r = rnd.random()
    if r < rates.get("wrong_side", 0.0):
        return (drawn.organ.left if drawn.side == "right" else drawn.organ.right), "wrong_side"
    if r < rates.get("wrong_side", 0.0) + rates.get("unspecified_side", 0.0):
        return drawn.organ.unspecified, "unspecified_side"
    return drawn.code, ""


AMBIGUITY_KINDS = ("borderline", "primary_first", "second_problem", "shorthand")


def coder_choice(coder: random.Random, drawn: Drawn, rates: dict) -> tuple[Drawn, str]:
    """(disease, kind): where the organ has borderline wordings, at the rate `rates['borderline']` times the
    drawn wording's frequency the note uses it and the coder assigns one of its codings by their shares
    ('borderline'); else the drawn disease and ''.
    `coder` is the coder's own random stream, drawn once per case, so that at rate 0 the cohort is the one drawn
    without a coder, byte for byte (at a higher rate the longer wordings change how later notes are messed up).
    """
    chance = coder.random()
    if not drawn.organ.borderline or chance >= rates.get("borderline", 0.0):
        return drawn, ""
    wording = coder.choice(drawn.organ.borderline)
    if coder.random() >= wording.frequency:  # how common the wording is among the organ's notes
        return drawn, ""
    coding = _pick_weighted(coder, wording.codings, [c.share for c in wording.codings])
    organ = dataclasses.replace(drawn.organ, text=wording.text, code=coding.code, right=coding.right,
                                left=coding.left, unspecified=coding.unspecified or drawn.organ.unspecified,
                                borderline=())
    code = (organ.right if drawn.side == "right" else organ.left) if organ.sided else organ.code
    return dataclasses.replace(drawn, organ=organ, code=code, templates=wording.templates,
                               regimens=wording.regimens or drawn.regimens), "borderline"


def second_problem(coder: random.Random, code: str, sex: str, cat: Catalogue) -> str:
    """A second problem for a note coded `code`: a prior cancer of another organ (of the patient's sex) or a
    comorbidity, drawn by the coder's stream."""
    template = coder.choice(cat.second_problems)
    others = [p for p, c in cat.primary_codes.items()
              if c[:3] != code[:3] and cat.sex_specific_primary.get(p, sex) == sex]
    return template.format(primary=coder.choice(others), year=coder.randint(2005, 2019))


def render_text(template: str, rnd: random.Random, drawn: Drawn, sex: str, cat: Catalogue) -> str:
    """A diagnosis text of the drawn disease: organ, side, histology and stage words filled in."""
    side = drawn.side
    values = {k: rnd.choice(v) for k, v in cat.fields.items() if "{" + k + "}" in template}
    if "{primary}" in template:
        values["primary"] = rnd.choice([p for p in cat.fields["primary"]
                                        if cat.sex_specific_primary.get(p, sex) == sex])
    organ = drawn.organ.text.format(side=side)
    values.update(grade=str(rnd.randint(1, 3)), hist=rnd.choice(drawn.subtype.histology), side=side,
                  organ=organ, Organ=organ[0].upper() + organ[1:], ORGAN=organ.upper(),
                  abbr=(drawn.organ.abbr or drawn.organ.text).format(S=side[0].upper(), side=side),
                  tnm=drawn.stage.tnm, stage=drawn.stage.group, **drawn.stage.fields)
    text = template.format(**values)
    return text[0].upper() + text[1:]


def _technique(reg: Regimen, modality: str, cat: Catalogue) -> str:
    return reg.technique if (modality, reg.technique) in cat.machine_labels else "conventional"


def _plan_text(rnd: random.Random, reg: Regimen, keyword: bool, side: str, cat: Catalogue) -> str:
    total, fx = reg.total_gy, reg.fractions
    if rnd.random() < P_PLAN_DIFFERS:  # the note says one thing, the delivered plan another
        fx = max(1, fx + rnd.choice((-5, -2, 2, 5)))
        total = round(total / reg.fractions * fx, 2)
    tech_key = (reg.modality, _technique(reg, reg.modality, cat))
    tech = rnd.choice(cat.technique_words.get(tech_key) or cat.technique_words[(reg.modality, "conventional")])
    template = rnd.choice(cat.plan_with_keyword if keyword else cat.plan_without_keyword)
    return template.format(dose=_fmt(total), fx=fx, dpf=_fmt(total / fx), cgy=int(round(total * 100)),
                           word=rnd.choice(cat.modality_words[reg.modality]), tech=tech, TECH=tech.upper(),
                           target=reg.target.format(side=side))


def _mess(rnd: random.Random, text: str) -> str:
    words = text.split(" ")
    i = rnd.randrange(len(words))
    kind = rnd.randrange(7)
    if kind == 0:
        words[i] = f"**{words[i]}**"
    elif kind == 1:
        words[-1] += rnd.choice((" !!", "??", " ~"))
    elif kind == 2:
        return text.replace(", ", ",, ", 1)
    elif kind == 3:
        return "\u2022 " + text
    elif kind == 4:
        words[i] = f'"{words[i]}"'
    elif kind == 5:
        words[i] = words[i] + "_"
    else:
        return text.replace(" ", "  ", 2) + " .."
    return " ".join(words)


def _machine_label(rnd: random.Random, modality: str, technique: str, cat: Catalogue) -> str:
    return rnd.choice(cat.machine_labels.get((modality, technique), cat.machine_labels[(modality, "conventional")]))


def generate_cohort(n_patients: int, seed: int, coding_noise: dict | None = None, truth: list | None = None,
                    catalogue_file: str | Path = catalogue.DEFAULT,
                    ambiguity: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (diagnoses, plans) exports for `n_patients` patients, identical for identical arguments.

    `coding_noise` gives the rates of deliberate ICD-10 coding errors (see `code_noise`), `ambiguity` those of
    the defensible coder choices (see `coder_choice`); when a list is passed as `truth`, one dict per patient
    (patient_id, fate, site, drawn code, exported code, noise kind, ambiguity kind) is appended to it, for the
    generator's log and the tests.
    """
    rates, ambiguity_rates, cat = coding_noise or {}, ambiguity or {}, catalogue.load(catalogue_file)
    rnd, coder = random.Random(seed), random.Random(f"{seed}:coder")
    fates = _fates(n_patients, rnd)
    mrns = rnd.sample(range(1_000_000, 9_999_999), n_patients)
    dx_rows, plan_rows = [], []
    for pid_num, fate in zip(mrns, fates):
        diagnoses, plans, drawn = draw_patient(rnd, coder, cat, f"AZ{pid_num}", fate, rates, ambiguity_rates,
                                               first_record=len(dx_rows) + 1)
        dx_rows += diagnoses
        plan_rows += plans
        if truth is not None:
            truth.append(drawn)
    return pd.DataFrame(dx_rows), pd.DataFrame(plan_rows)


def draw_patient(rnd: random.Random, coder: random.Random, cat, pid: str, fate: str, rates: dict,
                 ambiguity_rates: dict, first_record: int) -> tuple[list[dict], list[dict], dict]:
    """One patient: their diagnosis records (numbered from `first_record`), their plan records, and what was
    drawn for them (the `truth` row). Every draw comes from `rnd`, the coder's choices from `coder`."""
    site = _pick_weighted(rnd, cat.sites, [s.weight for s in cat.sites])
    sex = "Male" if rnd.random() < site.p_male else "Female"
    mean, sd, lo, hi = site.age
    age = int(min(hi, max(lo, round(rnd.gauss(mean, sd)))))
    # the coder's own stream: at rate 0 it changes nothing the main stream draws
    drawn, kind = coder_choice(coder, draw_disease(rnd, site, sex.lower()), ambiguity_rates)
    kinds = [kind] if kind else []
    primary_first, second, shorthand = (coder.random() < ambiguity_rates.get(k, 0.0) for k in
                                        ("primary_first", "second_problem", "shorthand"))
    if shorthand and drawn.subtype.shorthand and not drawn.templates:  # clinicians' shorthand: NSCLC RUL, PCa
        drawn = dataclasses.replace(drawn, templates=drawn.subtype.shorthand)
        kinds.append("shorthand")
    sub = drawn.subtype
    offered = [m for m in sub.modality if any(r.modality == m for r in drawn.regimens)]
    modality = _pick_weighted(rnd, offered, [sub.modality[m] for m in offered])
    reg = rnd.choice([r for r in drawn.regimens if r.modality == modality])

    # --- diagnosis record(s)
    r = rnd.random()
    noise = ""
    if r < P_ICD9:
        scheme, code = "ICD-9-CM", rnd.choice(sub.icd9)
    elif r < P_ICD9 + P_INVALID_ICD10:
        scheme, code = "ICD-10-CM", rnd.choice(cat.invalid_icd10)
    else:
        scheme = "ICD-10-CM"
        code, noise = code_noise(rnd, drawn, rates)
        if rnd.random() < 0.1:
            code = code.replace(".", "")  # Aria sometimes stores codes without the dot
    templates = drawn.templates or sub.templates
    text = render_text(rnd.choice(templates), rnd, drawn, sex.lower(), cat)
    coded = drawn.code
    named = sorted((text.lower().find(p), c) for p, c in cat.primary_codes.items() if p in text.lower())
    as_drawn = scheme == "ICD-10-CM" and code.replace(".", "") == coded.replace(".", "")  # no noise, valid
    if primary_first and named and as_drawn and "C77" <= coded[:3] <= "C79" and "borderline" not in kinds:
        # a note on a metastasis that names its primary: this coder codes the primary first
        coded = named[0][1]
        code = coded if "." in code else coded.replace(".", "")
        kinds.append("primary_first")
    if second:
        text += "; " + second_problem(coder, coded, sex.lower(), cat)
        kinds.append("second_problem")
    truth = {"patient_id": pid, "fate": fate, "site": site.name, "drawn_code": coded, "icd_code": code,
             "icd_scheme": scheme, "noise": noise, "ambiguity": ";".join(kinds)}
    r = rnd.random()
    if r < P_PLAN_KEYWORD + P_PLAN_PATTERN:
        plan = _plan_text(rnd, reg, keyword=r < P_PLAN_KEYWORD, side=drawn.side, cat=cat)
        if rnd.random() < 0.1:
            text = f"{plan}. {text}"
        else:
            text = text + rnd.choice((". ", " ", ", ", "; ")) + plan
    if rnd.random() < P_PUNCTUATION:
        text = _mess(rnd, text)
    if rnd.random() < P_INITIALS:
        text += rnd.choice(cat.initials)
    n_dx = {"several_diagnoses": rnd.choice((2, 2, 3)), "no_diagnosis": 0}.get(fate, 1)
    # a second record of the same patient: another note on the same disease (curation drops both)
    diagnoses = [{"patient_id": pid, "diagnosis_id": f"DX{first_record + k:07d}", "icd_code": code,
                  "icd_scheme": scheme, "stage": drawn.stage.group,
                  "diagnosis_details": (text if k == 0
                                        else render_text(rnd.choice(templates), rnd, drawn, sex.lower(), cat)),
                  "age": age, "sex": sex, "diagnosis_date": f"20{rnd.randint(15, 23)}-{rnd.randint(1, 12):02d}-01"}
                 for k in range(n_dx)]
    return diagnoses, plan_records(rnd, cat, pid, site.name, fate, drawn, reg, modality), truth


def plan_records(rnd: random.Random, cat, pid: str, site: str, fate: str, drawn, reg, modality: str) -> list[dict]:
    """A patient's plan records: the primary (missing, blank or doubled as the patient's fate says), its boost,
    an alternative primary, a replan."""
    technique = _technique(reg, modality, cat)
    label = (rnd.choice(cat.unmappable_labels) if rnd.random() < P_UNMAPPABLE_MODALITY
             else _machine_label(rnd, modality, technique, cat))
    intent = rnd.choice(("Curative", "Curative", "CURATIVE")) if reg.intent == "curative" else "Palliative"
    rows, row = [], functools.partial(_plan_row, rnd, pid, site, intent)

    def plan(*args, blank=False):
        rows.append(row(*args, blank=blank))

    primary_type = rnd.choice(("Primary", "Primary", "Primary", "PRIMARY", "primary"))
    if fate == "no_primary":
        plan(1, "R1", rnd.choice(("Replan", "Boost", "Verification")), label, reg.total_gy, reg.fractions)
        return rows
    plan(1, "1", primary_type, label, reg.total_gy, reg.fractions, blank=fate == "primary_without_dose")
    if reg.boost:
        bmod, btotal, bfx = reg.boost
        plan(1, "BST", rnd.choice(("Boost", "BOOST", "boost")),
             _machine_label(rnd, bmod, "hdr" if bmod == "brachy" else "conventional", cat), btotal, bfx)
    if fate == "alternative_primary":
        alt = rnd.choice(drawn.regimens)
        plan(1, "ALT", rnd.choice(("Alternative Primary", "ALTERNATIVE PRIMARY", "alternative primary")),
             _machine_label(rnd, alt.modality, _technique(alt, alt.modality, cat), cat), alt.total_gy,
             alt.fractions)
    elif fate == "several_primaries":
        again = rnd.choice(drawn.regimens)
        plan(2, "2", "Primary", _machine_label(rnd, again.modality, _technique(again, again.modality, cat), cat),
             again.total_gy, again.fractions)
    if rnd.random() < P_REPLAN:
        plan(1, "RP", "Replan", label, reg.total_gy, reg.fractions)
    return rows


def _plan_row(rnd, pid, site, intent, course, pid_suffix, ptype, mod_label, total, fx, blank) -> dict:
    return {"patient_id": pid, "course_id": f"C{course}", "plan_id": f"{site[:4].upper()}_{pid_suffix}",
            "plan_type": ptype, "modality": mod_label, "intent": intent,
            "status": rnd.choice(("Completed", "Completed", "Completed", "Completed Early", "TreatApproved")),
            "n_fields": 1 if mod_label in ("HDR", "LDR") else rnd.randint(1, 9),
            "n_fractions": fx, "dose_per_fraction_gy": "" if blank else round(total / fx, 4),
            "total_dose_gy": "" if blank else total,
            "treatment_machine": rnd.choice(("TB1", "TB2", "PT-G1", "PT-G2"))}


def write_cohort(n_patients: int, seed: int, diagnoses_path: str | Path, plans_path: str | Path,
                 coding_noise: dict | None = None, catalogue_file: str | Path = catalogue.DEFAULT,
                 ambiguity: dict | None = None) -> dict:
    """Write both exports; return the injected coding noise by kind, over the ICD-10 coded patients
    whose organ has a side (the noise rates' denominator), and the coder's defensible choices by kind."""
    log.info("writing a synthetic cohort of %d patients (seed %d, coding noise %s, ambiguity %s)", n_patients, seed,
             coding_noise, ambiguity)
    truth: list = []
    diagnoses, plans = generate_cohort(n_patients, seed, coding_noise, truth, catalogue_file, ambiguity)
    write_csv(diagnoses, diagnoses_path)
    write_csv(plans, plans_path)
    noise = pd.Series([t["noise"] for t in truth])
    counts = {kind: int((noise == kind).sum()) for kind in NOISE_KINDS}
    log.info("coding noise injected (all %d patients): %s", n_patients,
             ", ".join(f"{k} {v}" for k, v in counts.items()))
    chosen = pd.DataFrame(truth)
    chosen = chosen[chosen["ambiguity"] != ""]
    for kind in AMBIGUITY_KINDS:
        codes = chosen.loc[chosen["ambiguity"].str.split(";").map(lambda kinds: kind in kinds),
                           "drawn_code"].value_counts()
        counts[kind] = int(codes.sum())
        log.info("%s: %d notes; the coder's codes: %s", kind, counts[kind],
                 ", ".join(f"{c} {n}" for c, n in codes.sort_index().items()) or "none")
    return counts
