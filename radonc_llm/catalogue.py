"""Clinical catalogue behind the synthetic Aria-like cohort, drawn top-down so that every case agrees with itself.

The data are in `radonc_llm/data/catalogue.yaml` (its header says what each field means); this module holds
the dataclasses they are loaded into, and `load` checks every entry on the way in.

A case is drawn as a radiation oncologist would meet it: disease site -> subtype (histology,
invasive or in situ) -> organ/subsite -> side, where the organ has one -> a stage valid for the
site (AJCC 8th TNM categories that exist there, FIGO, Ann Arbor or WHO grade; the words that
must agree with it, such as tumour size, Gleason score or grade, travel with the stage) -> the
ICD-10-CM code of that organ, subsite, side and behaviour -> modality and a regimen recognised
for that organ and stage. Every code is checked with simple-icd-10-cm
(`tests/test_synthetic.py`) and every case passes `radonc_llm.consistency` unless coding noise
was injected on purpose (`synthetic.coding_noise` in the config).

The site shares, sex ratios, ages and modality mixes were tuned so that the curated default
cohort matches the paper's "Data cohort" section (64/32/3/1 % photon/proton/electron/brachy,
mean age 62, 56 % male, 99 % curative); `tests/test_synthetic.py` checks the result.
"""
from __future__ import annotations

import functools
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import yaml

from .errors import UserError

DEFAULT = Path(__file__).with_name("data") / "catalogue.yaml"


@dataclass(frozen=True)
class Regimen:
    modality: str  # photon | proton | electron | brachy
    total_gy: float
    fractions: int
    target: str  # may name "{side}": filled with the case's side
    intent: str = "curative"
    boost: tuple[str, float, int] | None = None  # (modality, total_gy, fractions)
    technique: str = "conventional"  # conventional | sbrt | hdr | ldr (chooses the machine label)


@dataclass(frozen=True)
class Stage:
    group: str  # what the record's stage field holds: "IIA", "IB2", "grade 4", "benign"
    tnm: str = ""  # AJCC 8th categories valid for the site; "" where the site is not TNM-staged
    fields: dict = field(default_factory=dict)  # words that must agree with the stage (size, Gleason, ...)
    regimens: tuple[Regimen, ...] = ()  # the courses of this stage, where they differ within the subtype


@dataclass(frozen=True)
class Coding:
    """One code a coder may defensibly assign to a borderline note, and the share of coders who would."""
    share: float
    code: str = ""  # as Organ: one code, or the codes of each side
    right: str = ""
    left: str = ""
    unspecified: str = ""


@dataclass(frozen=True)
class Borderline:
    """A note that names the disease where ICD-10-CM categories meet (the rectosigmoid, the gastroesophageal
    junction, a brain lesion in a patient with a known cancer): its words in place of the organ's, and the
    codes coders choose between for them."""
    text: str  # "{side}" where the organ has one
    codings: tuple[Coding, ...]
    templates: tuple[str, ...] = ()  # the note's own templates, where the subtype's do not fit the wording
    frequency: float = 1.0  # the share of the organ's notes written so, at synthetic.ambiguity.borderline 1
    regimens: tuple[Regimen, ...] = ()  # the wording's own, where it is a different course (salvage, not primary)


@dataclass(frozen=True)
class Organ:
    """Where the disease is: its words in the note and its ICD-10-CM code(s)."""
    text: str  # "{side}" where the note names a side
    code: str = ""  # the code of an organ without laterality in ICD-10-CM
    right: str = ""  # the codes of an organ with laterality ...
    left: str = ""
    unspecified: str = ""  # ... and its unspecified-side code (coding noise only)
    sex: str | None = None  # "female" / "male": only patients of that sex
    weight: float = 1.0
    stages: tuple[Stage, ...] = ()  # override the subtype's
    regimens: tuple[Regimen, ...] = ()  # override the subtype's (a stage's own win)
    borderline: tuple[Borderline, ...] = ()  # wordings coders code differently (synthetic.ambiguity.borderline)
    abbr: str = ""  # the organ in clinicians' shorthand, {S} for R or L (RUL, L breast UOQ, BOT); else its words

    @property
    def sided(self) -> bool:
        return bool(self.right)


@dataclass(frozen=True)
class Subtype:
    weight: float
    templates: tuple[str, ...]  # {organ}/{Organ}/{ORGAN}, {hist}, {stage}, {tnm}, {grade}, FIELDS, stage fields
    organs: tuple[Organ, ...]
    stages: tuple[Stage, ...]
    icd9: tuple[str, ...]
    modality: dict  # modality -> probability (restricted to what the stage's regimens offer)
    regimens: tuple[Regimen, ...]
    histology: tuple[str, ...] = ("",)
    shorthand: tuple[str, ...] = ()  # the note in shorthand (synthetic.ambiguity.shorthand): {abbr}, fields


@dataclass(frozen=True)
class Site:
    name: str
    weight: float
    p_male: float
    age: tuple[float, float, int, int]  # mean, sd, min, max
    subtypes: tuple[Subtype, ...]


@dataclass(frozen=True)
class Catalogue:
    fields: dict  # descriptor -> the words it is drawn from
    sites: tuple[Site, ...]
    machine_labels: dict  # (modality, technique) -> labels
    unmappable_labels: tuple[str, ...]
    plan_with_keyword: tuple[str, ...]
    plan_without_keyword: tuple[str, ...]
    initials: tuple[str, ...]
    technique_words: dict  # (modality, technique) -> words
    modality_words: dict  # modality -> words
    invalid_icd10: tuple[str, ...]
    sex_specific_primary: dict  # primary -> the only sex it occurs in
    second_problems: tuple[str, ...]  # a prior cancer ({primary}, {year}) or a comorbidity added to a note
    primary_codes: dict  # primary -> its ICD-10-CM code (a metastasis coded to its primary)


class CatalogueError(UserError):
    """A malformed entry: names the file and the entry's key."""


NAMED = {"boost": ("modality", "total_gy", "fractions"), "age": ("mean", "sd", "min", "max")}  # stored as tuples
SCALARS = {"str": str, "float": (int, float), "int": int, "str | None": (str, type(None)), "dict": dict}


def _value(hint, value, where: str, file):
    """`value` as the field's type `hint` says: dataclasses from mappings, tuples from lists, checked."""
    def fail(expected):
        raise CatalogueError(f"{file}: {where}: expected {expected}, found {type(value).__name__} {value!r}"[:300])
    if (name := where.rsplit(".", 1)[-1]) in NAMED:
        if value is not None and (not isinstance(value, dict) or set(value) != set(NAMED[name])):
            fail(f"a mapping of {', '.join(NAMED[name])}")
        return None if value is None else tuple(value[n] for n in NAMED[name])
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, value, where, file)
    if typing.get_origin(hint) is tuple:  # tuple[X, ...]
        if not isinstance(value, list):
            fail("a list")
        return tuple(_value(hint.__args__[0], v, f"{where}[{i}]", file) for i, v in enumerate(value))
    expected = SCALARS.get(hint if isinstance(hint, str) else getattr(hint, "__name__", str(hint)))
    if expected is not None and (not isinstance(value, expected) or isinstance(value, bool)):
        fail(hint if isinstance(hint, str) else hint.__name__)
    return value


def _build(cls, data, where: str, file):
    """A `cls` from the mapping `data` at `where` (e.g. sites[2].subtypes[0].organs[1]), every field checked."""
    if not isinstance(data, dict):
        raise CatalogueError(f"{file}: {where}: expected a mapping of {cls.__name__} fields, found {data!r}"[:300])
    known = {f.name: f for f in fields(cls)}
    if unknown := sorted(set(data) - set(known)):
        raise CatalogueError(f"{file}: {where}: unknown field {unknown[0]!r} (a {cls.__name__} has: "
                             f"{', '.join(known)})")
    missing = [n for n, f in known.items() if n not in data and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise CatalogueError(f"{file}: {where}: {cls.__name__} without {missing[0]!r}")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _value(hints[name], value, f"{where}.{name}" if where else name, file)
                  for name, value in data.items()})


@functools.cache
def load(path: str | Path = DEFAULT) -> Catalogue:
    """The catalogue in `path`, every entry checked: a malformed one stops with one line naming the file and
    the entry's key."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CatalogueError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping of {', '.join(f.name for f in fields(Catalogue))}")
    for name in ("machine_labels", "technique_words"):  # modality -> technique -> words, keyed by both
        if isinstance(data.get(name), dict):
            data = {**data, name: {(m, t): tuple(words) for m, by in data[name].items() for t, words in by.items()}}
    for name in ("fields", "modality_words"):
        if isinstance(data.get(name), dict):
            data = {**data, name: {k: tuple(words) for k, words in data[name].items()}}
    return _build(Catalogue, data, "", path)
