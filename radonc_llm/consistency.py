"""Does each case agree with itself? The diagnosis text against its ICD-10-CM code.

Four kinds of check, each run only where the text and the code both say something about it:
- side: the text names one side (left/right) and the code the other (`side_mismatch`), or the
  code names no side although its category has codes for each side (`side_unspecified`);
- organ: the organ or histology the text names first (metastasis and systemic or benign
  entities before organs) has its own 3-character categories; the code's is not among them
  (`organ_mismatch`); or the code names a subsite (upper lobe, head of pancreas, frontal lobe,
  a breast quadrant) and the text another (`subsite_mismatch`);
- behaviour: the text says in situ (DCIS, Tis, "in situ") and the code is not an in-situ
  neoplasm (D00-D09), or the other way round (`behaviour_mismatch`);
- stage: a T, N or M category in the text that AJCC 8th does not define for the code's site
  (`stage_invalid`; N2c for lung, T1mi for prostate), or an in-situ case staged beyond Tis N0 M0.

Ambiguity is told from error: where the text's wording sits where categories meet (the rectosigmoid, a
Siewert II junction tumour, a metastasis note that names its primary) and the code is one of the categories
coders defensibly choose there, the case is marked `neighbouring_code` in its own column, and not flagged as
an organ or subsite mismatch.

It reads the curated cases (any hospital's, not only the synthetic ones) and writes a
data-quality report; it never writes or logs the diagnosis text.
"""
from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import pandas as pd
import yaml

from .errors import UserError
from .icd10 import _cm, main_category

log = logging.getLogger(__name__)

REASONS = {
    "side_mismatch": "the text names one side, the ICD-10 code the other",
    "side_unspecified": "the text names a side, the code none although its category has a code for each side",
    "organ_mismatch": "the code's 3-character category is not one of the organ or histology the text names",
    "subsite_mismatch": "the code names a subsite (upper lobe, head of pancreas) and the text another",
    "behaviour_mismatch": "in situ in the text but not in the code (D00-D09), or the other way round",
    "stage_invalid": "a T, N or M category that AJCC 8th does not define for the site (or beyond Tis N0 for in situ)",
}


def _categories(spec: str) -> frozenset[str]:
    """'C77-C79 D05' -> {'C77', 'C78', 'C79', 'D05'}."""
    out = set()
    for part in spec.split():
        lo, _, hi = part.partition("-")
        hi = hi or lo
        out.update(f"{lo[0]}{n:02d}" for n in range(int(lo[1:3]), int(hi[1:3]) + 1))
    return frozenset(out)


# (level, name, pattern, categories): the lowest level that matches names the case's organ, and
# within a level the earliest match in the text. Metastasis first (the primary's organ is named
# too), then entities whose code follows the histology, then organs.
ORGAN_RULES = [(level, name, re.compile(pattern, re.I), _categories(cats)) for level, name, pattern, cats in (
    (0, "metastasis", r"(?<!no )(?<!without )(?<!no distant )metasta|\bmets?\b", "C77-C79"),
    (1, "lymphoma", r"lymphoma|hodgkin", "C81-C88 C96"),
    (1, "unknown primary", r"no primary found|unknown primary|occult primary", "C76-C77 C80"),
    (1, "myeloma", r"myeloma|plasmacytoma", "C90"),
    (1, "leukaemia", r"leuka?emia", "C91-C95"),
    (1, "eye", r"uveal|choroid|\bretinoblastoma", "C69 D31"),
    (1, "meningioma", r"meningioma", "D32 D42 C70"),
    (1, "schwannoma", r"schwannoma|acoustic neuroma", "D33 D43 C72"),
    (1, "pituitary", r"pituitary|prolactinoma", "D35 D44 C75"),
    (1, "vascular malformation", r"arteriovenous malformation|\bAVM\b", "Q28"),
    (1, "trigeminal neuralgia", r"trigeminal neuralgia", "G50"),
    (1, "keloid", r"keloid", "L91"),
    (1, "thyroid eye disease", r"graves|thyroid eye", "E05"),
    (1, "heterotopic ossification", r"heterotopic ossification", "M61"),
    (1, "bone tumour", r"chordoma|chondrosarcoma|ewing|osteosarcoma|petroclival|\bclival|\bclivus", "C40-C41 C49"),
    (2, "skin melanoma", r"melanoma", "C43 D03"),
    (3, "breast", r"breast|\bDCIS\b|\bLCIS\b", "C50 D05 D24 D48"),
    (3, "prostate", r"prostat|\bPCa\b", "C61 D07"),
    (3, "lung", r"\blung\b|upper lobe|lower lobe|middle lobe|bronch|\bhil(?:um|ar)\b|\bNSCLC\b|\b[LR](?:UL|LL)\b|"
                r"\bRML\b", "C34 D02"),
    (3, "oropharynx", r"tonsil|base of tongue|\bBOT\b|oropharyn", "C01 C09 C10"),
    (3, "oral cavity", r"oral tongue|\btongue\b|floor of mouth|oral cavity|buccal|gingiv", "C00-C06"),
    (3, "larynx", r"laryn|glottic|glottis", "C32"),
    (3, "nasopharynx", r"nasopharyn", "C11"),
    (3, "salivary gland", r"parotid|submandibular", "C07 C08"),
    (3, "esophagus", r"esophag|oesophag", "C15 C16"),
    (3, "stomach", r"stomach|gastric", "C16"),
    (3, "anal canal", r"\banal\b|\banus\b", "C21"),
    (3, "rectum", r"rect(?:um|al|osigmoid)", "C18-C20"),
    (3, "colon", r"colon|sigmoid|cecum|caecum", "C18-C19"),
    (3, "pancreas", r"pancrea", "C25"),
    (3, "liver", r"liver|hepat", "C22"),
    (3, "cervix", r"cervix|cervical cancer|cervical carcinoma", "C53 D06"),
    (3, "endometrium", r"endometri|uterus|uterine", "C54-C55"),
    (3, "vulva", r"vulva", "C51"),
    (3, "bladder", r"bladder|urothelial", "C65-C68 D09"),
    (3, "kidney", r"kidney|renal", "C64-C65"),
    (3, "adrenal gland", r"adrenal", "C74"),
    (3, "brain", r"frontal|temporal|parietal|occipital|corpus callosum|cerebell|brain ?stem|ventricle|"
                r"glioblastoma|astrocytoma|oligodendroglioma|glioma|medulloblastoma|ependymoma", "C71 D33 D43"),
    (3, "orbit", r"\borbits?\b", "C69"),
    (3, "skin of head", r"\bnose\b|\bcheek\b|\bears?\b|scalp|\btemple\b|forehead|eyelid", "C43-C44 D03-D04 C30"),
    (3, "limb", r"thigh|\bcalf\b|upper arm|forearm|\bleg\b|\bknee\b|shoulder", "C40 C43-C44 C47 C49 D03-D04"),
    (3, "retroperitoneum", r"retroperiton", "C48-C49"),
)]

# Subsites within an organ: (words in the text, words in the code's official description). A case is
# flagged when the description names a subsite of a group and the text names another of it, but not that one.
SUBSITE_GROUPS = [[(re.compile(t, re.I), re.compile(d, re.I)) for t, d in group] for group in (
    ((r"upper lobe|\b[LR]UL\b", "upper lobe"), (r"middle lobe|\bRML\b", "middle lobe"),
     (r"lower lobe|\b[LR]LL\b", "lower lobe")),
    ((r"upper[- ]outer", "upper-outer"), (r"upper[- ]inner", "upper-inner"), (r"lower[- ]outer", "lower-outer"),
     (r"lower[- ]inner", "lower-inner"), ("central portion|subareolar", "central portion"),
     ("axillary tail", "axillary tail")),
    (("frontal", "frontal lobe"), ("temporal", "temporal lobe"), ("parietal", "parietal lobe"),
     ("occipital", "occipital lobe"), ("cerebell", "cerebellum"), (r"brain ?stem|fourth ventricle", "brain stem")),
    ((r"head of (?:the )?pancreas|pancreatic head", "head of pancreas"),
     (r"body of (?:the )?pancreas|pancreatic body", "body of pancreas"),
     (r"tail of (?:the )?pancreas|pancreatic tail", "tail of pancreas")),
    ((r"distal esophag|lower third", "lower third"), (r"mid(?:dle third|-?esophag)", "middle third"),
     (r"upper third|proximal esophag|cervical esophag", "upper third"),
     (r"gastro-?esophageal junction|\bGEJ\b|cardia", "cardia")),
    ((r"(?<!supra)(?<!sub)glott", r"(?<!supra)(?<!sub)glottis"), ("supraglott", "supraglottis"),
     ("subglott", "subglottis")),
    ((r"\bnose\b|\bnasal tip\b", r"\bnose\b"), (r"\bears?\b", r"\bear\b"), (r"scalp", r"scalp"),
     (r"\blip\b", r"\blip\b"), (r"eyelid", r"eyelid"), (r"forearm|upper arm|shoulder", r"upper limb"),
     (r"thigh|\bcalf\b|\bleg\b|\bhip\b", r"lower limb|thigh|\bhip\b")),
    ((r"\bneck\b", r"head, face,? and neck"), (r"mediastin", r"intrathoracic"), (r"inguinal", r"inguinal"),
     (r"axilla", r"axilla")),
)]

# Wordings where ICD-10-CM categories meet and coders defensibly differ: (pattern, the categories they choose
# between besides the organ's own). Where one matches, a code of these or of the organ's own categories is
# ambiguity, not error.
NEIGHBOURING = [(re.compile(pattern, re.I), _categories(cats)) for pattern, cats in (
    (r"rectosigmoid", "C18-C20"),
    (r"gastro-?esophageal junction|\bGEJ\b|siewert|gastric cardia", "C15-C16"),
    (r"anorectal", "C20-C21"),
    (r"non-?diagnostic biopsy|biopsy not feasible|treated empirically", "C34 D38 R91"),  # SBRT without tissue
    (r"primary not separable", "C34 C77"),  # a hilar mass and its nodes
    (r"no primary found|unknown primary|occult primary", "C09-C10"),  # presumed oropharynx; its own: C76-C77 C80
    (r"no tissue diagnosis", "C79 D49"),  # a new lesion in a patient with a known cancer
    (r"presumed (?:high-grade )?glioma", "C71 D43 D49"),  # a brain mass treated without biopsy
    (r"here for adjuvant radiation", "Z85"),  # excised, in adjuvant treatment: active disease or history
    (r"vallecula|lateral oropharyngeal wall", "C01 C09-C10"),  # where tongue base, tonsil and oropharynx meet
    (r"periampullary", "C24-C25"),  # pancreatic head or ampulla of Vater
    (r"imaging diagnosis without tissue", "D32-D33 D42-D43 D49"),  # a meningioma treated on imaging alone
    (r"after radical prostatectomy", "C61 R97 Z85"),  # salvage for a rising PSA: cancer, rising PSA or history
    (r"extending to the floor of mouth", "C02 C04"),  # ventral tongue or floor of mouth
    (r"aryepiglottic fold", "C13 C32"),  # the fold's laryngeal or hypopharyngeal face
)]
AMBIGUITIES = {"neighbouring_code": "the wording sits where categories meet; the code is one coders choose there"}

SIDE = re.compile(r"\b(left|right)\b", re.I)
SIDE_ABBREVIATED = re.compile(r"\b([LR])(?:UL|LL| breast\b| tonsil\b)")  # RUL, L breast: the side in shorthand
BILATERAL = re.compile(r"\bbilateral", re.I)
IN_SITU = re.compile(r"\bin[ -]situ\b|\bDCIS\b|\bLCIS\b|(?<![A-Za-z0-9])[cpy]?Tis\b", re.I)
INVASIVE = re.compile(r"\binvasive\b|\bmicroinvasi", re.I)
T_CATEGORY = re.compile(r"(?<![A-Za-z0-9])(?:y|r)?[cp]?T(is|X|0|[1-4](?:mi|[a-d])?)(?![A-Za-z0-9])")
N_CATEGORY = re.compile(r"(?<![A-Za-z0-9])(?:y|r)?[cp]?N(X|0|[1-3](?:mi|[a-c])?)(?![A-Za-z0-9])")
M_CATEGORY = re.compile(r"(?<![A-Za-z0-9])[cp]?M(X|0|1[a-c]?)(?![A-Za-z0-9])")


STAGING_FILE = Path(__file__).with_name("data") / "ajcc_staging.yaml"
CATEGORY = re.compile(r"[A-Z]\d\d")


@functools.cache
def load_staging(path: str | Path = STAGING_FILE) -> tuple[dict, dict]:
    """The AJCC 8th T, N and M categories by ICD-10-CM 3-character category, and those of an in-situ neoplasm,
    from `path`; a malformed entry stops with one line naming the file and the entry."""
    def axes(entry: dict, where: str) -> dict:
        if not isinstance(entry, dict) or not {"T", "N"} <= set(entry) or set(entry) - {"categories", "T", "N", "M"}:
            raise UserError(f"{path}: {where}: expected categories, T, N and optionally M, found {entry!r}"[:300])
        return {axis: frozenset(str(entry.get(axis, "0 1 X")).split()) for axis in "TNM"}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != {"sites", "in_situ"} or not isinstance(data["sites"], list):
        raise UserError(f"{path}: expected 'sites' (a list) and 'in_situ'")
    staging = {}
    for i, entry in enumerate(data["sites"]):
        categories = entry.get("categories") if isinstance(entry, dict) else None
        if not isinstance(categories, list) or not all(CATEGORY.fullmatch(str(c)) for c in categories):
            raise UserError(f"{path}: sites[{i}].categories: expected a list of 3-character ICD-10-CM categories "
                            f"(C50), found {categories!r}"[:300])
        staging.update(dict.fromkeys(categories, axes(entry, f"sites[{i}]")))
    return staging, axes(data["in_situ"], "in_situ")


@functools.cache
def _code_side(code: str) -> str:
    """'right', 'left' or '' from the code's official description."""
    found = {s.lower() for s in SIDE.findall(_description(code))}
    return found.pop() if len(found) == 1 else ""


@functools.cache
def _category_has_sides(code: str) -> bool:
    """Whether a sibling code names a side (C50.919 beside C50.911/C50.912): then a code without one is less
    specific than a text that names it. Only within a category, never across a block (C61 beside testis)."""
    parent = _cm().get_parent(code)
    if not parent or _cm().is_chapter_or_block(parent):
        return False
    return any(_code_side(c) for c in _cm().get_children(parent))


HISTORY = re.compile(r"\b(?:hx|history|prior)\b\W*(?:of\b)?[^;.]*", re.I)  # a past problem, to the clause's end


def _in_history(text: str, position: int) -> bool:
    return any(m.start() <= position < m.end() for m in HISTORY.finditer(text))


def text_organ(text: str) -> tuple[str, frozenset] | None:
    """(name, categories) of what the text names first, a past problem ("hx of melanoma") only where it names
    nothing else (then the first one); None if it names nothing the checker knows."""
    hits = []
    for level, name, pattern, categories in ORGAN_RULES:
        for m in pattern.finditer(text):
            hits.append((_in_history(text, m.start()), level, m.start(), name, categories))
    if not hits:
        return None
    # a past problem only where nothing else is named; where all is past ("History of ... breast ..., here for
    # adjuvant radiation. prior melanoma"), the note leads with the treated disease: the first clause wins
    *_, name, categories = min(hits, key=lambda h: (h[0], h[2] if h[0] else 0, h[1], h[2]))
    return name, categories


@functools.cache
def _description(code: str) -> str:
    return _cm().get_description(code)


def subsite_mismatch(text: str, code: str) -> bool:
    """The code's description names a subsite (upper lobe, head of pancreas) and the text another one."""
    description = _description(code)
    for group in SUBSITE_GROUPS:
        in_code = {i for i, (_, d) in enumerate(group) if d.search(description)}
        in_text = {i for i, (t, _) in enumerate(group) if t.search(text)}
        if in_code and in_text and not in_code & in_text:
            return True
    return False


def text_side(text: str) -> str:
    """'left' or 'right' when the text names exactly one side; '' otherwise (none, both, bilateral)."""
    sides = {s.lower() for s in SIDE.findall(text)} | {"left" if s == "L" else "right"
                                                       for s in SIDE_ABBREVIATED.findall(text)}
    return sides.pop() if len(sides) == 1 and not BILATERAL.search(text) else ""


def invalid_stage_categories(text: str, category: str, in_situ: bool = False, staging_file=STAGING_FILE) -> list[str]:
    """The T/N/M categories in the text that AJCC 8th does not define for the code's site, or that an
    in-situ neoplasm cannot have (anything but Tis N0 M0)."""
    staging, in_situ_tnm = load_staging(staging_file)
    allowed = in_situ_tnm if in_situ else staging.get(category)
    if allowed is None:
        return []
    bad = []
    for axis, pattern in (("T", T_CATEGORY), ("N", N_CATEGORY), ("M", M_CATEGORY)):
        bad += [f"{axis}{v}" for v in pattern.findall(text)
                if v not in allowed[axis] and v.upper() not in allowed[axis]]
    return bad


def check_case(text: str, code: str, staging_file: str | Path = STAGING_FILE) -> dict:
    """The checks on one case; `code` is a valid, dotted ICD-10-CM code; `staging_file`: the AJCC categories."""
    category = main_category(code)
    organ = text_organ(text)
    side_t, side_c = text_side(text), _code_side(code)
    in_situ_text = bool(IN_SITU.search(text)) and not INVASIVE.search(text)
    in_situ_code = "D00" <= category <= "D09"
    choices = [cats for pattern, cats in NEIGHBOURING if pattern.search(text)]
    if organ and organ[0] == "metastasis":  # a metastasis note naming its primary: coders code either first
        choices += [cats for _, name, pattern, cats in ORGAN_RULES if name != "metastasis" and any(
            not _in_history(text, m.start()) for m in pattern.finditer(text))]
    neighbouring = bool(choices) and category in frozenset().union(*choices, organ[1] if organ else ())
    if neighbouring and organ and category not in organ[1]:
        side_t = ""  # the side the text names is the other site's (a brain metastasis; the primary is coded)
    flags = []
    if side_t and side_c and side_t != side_c:
        flags.append("side_mismatch")
    if side_t and not side_c and _category_has_sides(code):
        flags.append("side_unspecified")
    if neighbouring:  # a defensible coder choice: neither an organ nor a subsite mismatch
        pass
    elif organ and category not in organ[1]:
        flags.append("organ_mismatch")
    elif subsite_mismatch(text, code):
        flags.append("subsite_mismatch")
    if in_situ_text != in_situ_code:
        flags.append("behaviour_mismatch")
    bad_stage = invalid_stage_categories(text, category, in_situ_text and in_situ_code, staging_file)
    if bad_stage:
        flags.append("stage_invalid")
    return {"icd10": code, "category": category, "organ": organ[0] if organ else "",
            "organ_matches_code": bool(organ) and category in organ[1],
            "side_in_text": side_t, "side_in_code": side_c,
            "side_checked": bool(side_t) and (bool(side_c) or _category_has_sides(code)),
            "in_situ_text": in_situ_text, "in_situ_code": in_situ_code,
            "stage_checked": category in load_staging(staging_file)[0] or (in_situ_text and in_situ_code),
                "invalid_stage_categories": " ".join(bad_stage),
            "flags": ";".join(flags), "consistent": not flags,
            "ambiguity": "neighbouring_code" if neighbouring else ""}


def check_cases(cases: pd.DataFrame, staging_file: str | Path = STAGING_FILE) -> pd.DataFrame:
    """One row per case with a valid ICD-10 code: what each check found (never the text)."""
    valid = cases[cases["icd10"].notna()]
    rows = [{"case_id": cid, **check_case(text, code, staging_file)}
            for cid, text, code in zip(valid["case_id"], valid["diagnosis"], valid["icd10"])]
    columns = ["case_id", "icd10", "category", "organ", "organ_matches_code", "side_in_text", "side_in_code",
               "side_checked", "in_situ_text", "in_situ_code", "stage_checked", "invalid_stage_categories",
               "flags", "consistent", "ambiguity"]
    return pd.DataFrame(rows, columns=columns)


def summarise(report: pd.DataFrame) -> pd.DataFrame:
    """Per check: cases it could assess, cases flagged, and the share; then per organ named in the text,
    how often the code carries neither one of that organ's own categories nor a neighbouring one coders choose
    for the wording."""
    flags = report["flags"].str.split(";")
    has = lambda reason: flags.map(lambda f: reason in f)  # noqa: E731
    checked = {"side_mismatch": report["side_checked"], "side_unspecified": report["side_checked"],
               "organ_mismatch": report["organ"] != "", "subsite_mismatch": report["organ_matches_code"],
               "behaviour_mismatch": pd.Series(True, index=report.index),
               "stage_invalid": report["stage_checked"]}
    rows = [("all checks", "any", len(report), int((~report["consistent"]).sum()))]
    rows += [(reason, REASONS[reason], int(checked[reason].sum()), int(has(reason).sum())) for reason in REASONS]
    rows += [(kind, meaning, len(report), int((report["ambiguity"] == kind).sum())) for kind, meaning in
             AMBIGUITIES.items()]  # ambiguity, not error: not in "all checks"
    for organ, group in report[report["organ"] != ""].groupby("organ"):  # a neighbouring code is no error
        rows.append((f"organ: {organ}", "coded outside the organ's own 3-character categories and its neighbours",
                     len(group), int((~group["organ_matches_code"] & (group["ambiguity"] == "")).sum())))
    table = pd.DataFrame(rows, columns=["check", "meaning", "n_checked", "n_flagged"])
    table["percent"] = (100 * table["n_flagged"] / table["n_checked"].where(table["n_checked"] > 0)).round(2)
    for row in table[~table["check"].str.startswith("organ: ")].itertuples():
        log.info("%s: %d of %d flagged", row.check, row.n_flagged, row.n_checked)
    return table
