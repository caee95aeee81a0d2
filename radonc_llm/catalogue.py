"""Clinical catalogue behind the synthetic Aria-like cohort, drawn top-down so that every case agrees with itself.

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

from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class Site:
    name: str
    weight: float
    p_male: float
    age: tuple[float, float, int, int]  # mean, sd, min, max
    subtypes: tuple[Subtype, ...]


R, S, O = Regimen, Stage, Organ  # noqa: E741  (short names keep the tables below readable)


def sided(text: str, right: str, left: str, unspecified: str, **kw) -> Organ:
    return Organ(text, right=right, left=left, unspecified=unspecified, **kw)


# Descriptors that do not depend on the stage, filled where a template names them.
FIELDS: dict[str, tuple[str, ...]] = {
    "er": ("positive", "positive", "positive", "negative"),
    "pr": ("positive", "positive", "negative"),
    "her2": ("negative", "negative", "negative", "positive", "equivocal, FISH negative"),
    "ki": ("5", "10", "15", "20", "30", "40"),
    "breast_surg": ("lumpectomy and sentinel node biopsy", "partial mastectomy", "lumpectomy"),
    "p16": ("p16 positive", "HPV associated, p16 positive"),
    "primary": ("lung adenocarcinoma", "breast cancer", "renal cell carcinoma", "melanoma",
                "prostate cancer", "colorectal cancer"),
}

# ----------------------------------------------------------------------------------------- breast
BREAST_ORGANS = (
    sided("upper outer quadrant of the {side} breast", "C50.411", "C50.412", "C50.919", sex="female", weight=4),
    sided("upper inner quadrant of the {side} breast", "C50.211", "C50.212", "C50.919", sex="female", weight=2),
    sided("central portion of the {side} breast", "C50.111", "C50.112", "C50.919", sex="female"),
    sided("{side} breast", "C50.911", "C50.912", "C50.919", sex="female", weight=5),
    sided("{side} male breast", "C50.921", "C50.922", "C50.929", sex="male"),
)
BREAST_WHOLE = (R("photon", 40.05, 15, "{side} whole breast"), R("photon", 26, 5, "{side} whole breast"),
                R("photon", 42.56, 16, "{side} whole breast"),
                R("photon", 50, 25, "{side} whole breast", boost=("electron", 10, 5)),
                R("photon", 40.05, 15, "{side} whole breast", boost=("photon", 10, 4)),
                R("proton", 40.05, 15, "{side} whole breast"), R("electron", 50, 25, "{side} chest wall"))
BREAST_NODES = (R("photon", 50, 25, "{side} chest wall and regional nodes"),
                R("photon", 50, 25, "{side} breast and regional nodes", boost=("electron", 10, 5)),
                R("photon", 40.05, 15, "{side} chest wall and regional nodes"),
                R("proton", 50, 25, "{side} chest wall and regional nodes"),
                R("proton", 50.4, 28, "{side} chest wall and regional nodes"),
                R("electron", 50, 25, "{side} chest wall"))
BREAST_TEMPLATES = (
    "AJCC 8th edition anatomic stage {stage} ({tnm}) {hist} of the {ORGAN}, grade {grade}, "
    "estrogen receptor {er}, progesterone receptor {pr}, HER2/Neu {her2}. {tnm}, G{grade}, ER {er}, PR {pr}",
    "{hist} of the {organ}, {tnm}, ER {er}, PR {pr}, HER2 {her2}, Ki-67 {ki}%, s/p {breast_surg}",
    "Cancer of the {organ}, {hist}, grade {grade}, {tnm}, stage {stage}, s/p {breast_surg} and adjuvant chemotherapy",
)
BREAST_HISTOLOGY = ("invasive ductal carcinoma", "invasive lobular carcinoma", "invasive mammary carcinoma",
                    "mixed ductal and lobular carcinoma")

# ------------------------------------------------------------------------------------------- lung
LUNG_LOBES = (
    sided("{side} upper lobe", "C34.11", "C34.12", "C34.10", weight=4),
    sided("{side} lower lobe", "C34.31", "C34.32", "C34.30", weight=3),
    O("right middle lobe", code="C34.2"),
)
LUNG_HISTOLOGY = ("adenocarcinoma", "squamous cell carcinoma", "non-small cell carcinoma",
                  "adenocarcinoma, EGFR wild type, PD-L1 60%")

# ---------------------------------------------------------------------------------- head and neck
HN_DEFINITIVE = (R("photon", 70, 35, "primary and bilateral neck"), R("photon", 66, 33, "primary and neck"),
                 R("proton", 70, 35, "primary and bilateral neck"), R("proton", 69.96, 33,
                     "primary and bilateral neck"))
HN_POSTOP = (R("photon", 60, 30, "postoperative bed and neck"), R("photon", 66, 33, "postoperative bed and neck"),
             R("proton", 60, 30, "postoperative bed and neck"), R("proton", 66, 33, "postoperative bed and neck"))

# ------------------------------------------------------------------------------------ metastases
MET_BONE = (R("photon", 8, 1, "bone metastasis", intent="palliative"),
            R("photon", 20, 5, "bone metastasis", intent="palliative"),
            R("photon", 24, 2, "spine", technique="sbrt"), R("photon", 27, 3, "spine", technique="sbrt"),
            R("photon", 30, 5, "spine", technique="sbrt"))

SITES: tuple[Site, ...] = (
    Site("breast", 0.17, 0.01, (62, 11, 24, 95), (
        Subtype(0.45, BREAST_TEMPLATES, BREAST_ORGANS, (
            S("IA", "pT1c pN0(sn) M0"), S("IA", "pT1b pN0 M0"), S("IA", "pT1a pN0(sn) M0"),
            S("IIA", "pT2 pN0 M0"), S("IIA", "pT2 pN0(sn) M0"),
        ), ("174.9", "174.4", "174.8"), {"photon": 0.93, "proton": 0.05, "electron": 0.02}, BREAST_WHOLE,
            BREAST_HISTOLOGY),
        Subtype(0.40, BREAST_TEMPLATES, BREAST_ORGANS, (
            S("IIA", "pT1c pN1a M0"), S("IIB", "pT2 pN1a M0"), S("IIB", "pT3 pN0 M0"), S("IIIA", "pT2 pN2a M0"),
            S("IIIA", "pT3 pN1a M0"), S("IIIC", "pT2 pN3a M0"),
        ), ("174.9", "174.4"), {"photon": 0.66, "proton": 0.32, "electron": 0.02}, BREAST_NODES, BREAST_HISTOLOGY),
        Subtype(0.15, (
            "{Organ} ductal carcinoma in situ, {tnm}, nuclear grade {grade}, ER {er}, s/p {breast_surg}",
            "DCIS of the {organ}, high nuclear grade, comedo necrosis, margins negative, stage 0",
        ), (sided("{side} breast", "D05.11", "D05.12", "D05.10"),),
            (S("0", "pTis (DCIS) pN0 M0"), S("0", "pTis (DCIS) cN0 M0")), ("233.0",),
            {"photon": 1.0}, BREAST_WHOLE[:3]),
    )),
    Site("prostate", 0.18, 1.0, (68, 7, 42, 92), (
        Subtype(1.0, (
            "Adenocarcinoma of the prostate, Gleason {gleason}, PSA {psa} ng/mL, {cores} cores positive, {tnm}",
            "Prostate adenocarcinoma, {tnm}, Gleason score {gleason}, Grade Group {gg}, PSA {psa}, NCCN {risk} risk",
            "Prostate cancer, Gleason {gleason}, iPSA {psa}, {tnm}, stage {stage}, MRI PI-RADS 5 lesion in the "
            "{side} peripheral zone",
        ), (O("prostate", code="C61"),), (
            # AJCC 8th prognostic groups from T, PSA and Grade Group; NCCN risk from the same.
            S("I", "cT1c N0 M0", {"gleason": "3+3=6", "gg": "1", "psa": "5.6", "cores": "2/12", "risk": "low"}),
            S("IIA", "cT1c N0 M0", {"gleason": "3+3=6", "gg": "1", "psa": "11.4", "cores": "3/12",
                                     "risk": "favorable intermediate"}),
            S("IIB", "cT2a N0 M0", {"gleason": "3+4=7", "gg": "2", "psa": "6.8", "cores": "5/12",
                                     "risk": "favorable intermediate"}),
            S("IIC", "cT2b N0 M0", {"gleason": "4+3=7", "gg": "3", "psa": "7.9", "cores": "6/14",
                                     "risk": "unfavorable intermediate"}),
            S("IIC", "cT1c N0 M0", {"gleason": "4+4=8", "gg": "4", "psa": "9.2", "cores": "8/12", "risk": "high"}),
            S("IIIA", "cT2a N0 M0", {"gleason": "3+4=7", "gg": "2", "psa": "22.5", "cores": "6/12", "risk": "high"}),
            S("IIIB", "cT3a N0 M0", {"gleason": "4+3=7", "gg": "3", "psa": "14.0", "cores": "8/12", "risk": "high"}),
        ), ("185",), {"photon": 0.61, "proton": 0.36, "brachy": 0.03},
            (R("photon", 70, 28, "prostate"), R("photon", 78, 39, "prostate and seminal vesicles"),
             R("photon", 60, 20, "prostate"), R("photon", 36.25, 5, "prostate", technique="sbrt"),
             R("proton", 79.2, 44, "prostate and seminal vesicles"), R("proton", 70, 28, "prostate"),
             R("proton", 36.25, 5, "prostate"),
             R("brachy", 145, 1, "prostate seed implant", technique="ldr"),
             R("brachy", 15, 1, "prostate", technique="hdr"))),
    )),
    Site("lung", 0.10, 0.56, (69, 9, 35, 95), (
        Subtype(0.55, (
            "{Organ} {hist}, {size} cm, {tnm}, biopsy proven, medically inoperable",
            "Stage {stage} {hist} of the {organ}, {tnm}, PET avid, no nodal disease on EBUS",
        ), LUNG_LOBES, (
            S("IA2", "cT1b cN0 M0", {"size": "1.8"}), S("IA3", "cT1c cN0 M0", {"size": "2.4"}),
            S("IB", "cT2a cN0 M0", {"size": "3.6"}), S("IIA", "cT2b cN0 M0", {"size": "4.5"}),
        ), ("162.3", "162.5", "162.9"), {"photon": 0.9, "proton": 0.1},
            (R("photon", 54, 3, "{side} lung lesion", technique="sbrt"),
             R("photon", 50, 5, "{side} lung lesion", technique="sbrt"),
             R("photon", 60, 8, "central lung lesion", technique="sbrt"),
             R("photon", 48, 4, "{side} lung lesion", technique="sbrt"),
             R("proton", 60, 8, "central lung lesion")), LUNG_HISTOLOGY),
        Subtype(0.45, (
            "Stage {stage} {hist} of the {organ} with mediastinal adenopathy, {tnm}, "
            "planned concurrent carboplatin/paclitaxel",
            "Locally advanced {hist}, {organ}, {size} cm, {tnm}, unresectable",
        ), LUNG_LOBES, (
            S("IIIA", "cT3 cN1 M0", {"size": "5.8"}), S("IIIA", "cT1c cN2 M0", {"size": "2.6"}),
            S("IIIB", "cT3 cN2 M0", {"size": "6.2"}), S("IIIB", "cT2a cN3 M0", {"size": "3.4"}),
            S("IIIC", "cT4 cN3 M0", {"size": "7.5"}),
        ), ("162.9",), {"photon": 0.55, "proton": 0.45},
            (R("photon", 60, 30, "lung and mediastinum"), R("photon", 66, 33, "lung and mediastinum"),
             R("proton", 60, 30, "lung and mediastinum"), R("proton", 70, 35, "lung and mediastinum")),
            LUNG_HISTOLOGY),
    )),
    Site("head and neck", 0.10, 0.8, (64, 10, 22, 93), (
        Subtype(0.40, (  # HPV-mediated oropharynx: AJCC 8th has no T4a/b and no N2a-c here
            "Squamous cell carcinoma of the {organ}, {p16}, {tnm}, AJCC 8th stage {stage}",
            "{Organ} SCC, {tnm}, {p16}, s/p transoral resection, positive margin",
            "{Organ} carcinoma, {tnm}, {p16}, ECOG 0, planned concurrent cisplatin",
        ), (O("base of tongue", code="C01"), O("{side} tonsil", code="C09.9")), (
            S("I", "cT1 cN1 M0"), S("I", "cT2 cN0 M0"), S("II", "cT2 cN2 M0"), S("II", "cT3 cN1 M0"),
            S("III", "cT4 cN1 M0"), S("III", "cT2 cN3 M0"),
        ), ("141.0", "146.0"), {"photon": 0.45, "proton": 0.55}, HN_DEFINITIVE),
        Subtype(0.25, (
            "Squamous cell carcinoma of the {organ}, {tnm}, AJCC 8th stage {stage}, s/p resection",
            "{Organ} SCC, {tnm}, p16 negative, s/p partial glossectomy and neck dissection, close margin",
        ), (O("oral tongue", code="C02.3", weight=2), O("floor of mouth", code="C04.9")), (
            S("III", "pT3 pN0 M0"), S("III", "pT2 pN1 M0"), S("IVA", "pT4a pN2b M0"), S("IVA", "pT2 pN2c M0"),
        ), ("141.1", "144.9"), {"photon": 0.45, "proton": 0.55}, HN_POSTOP),
        Subtype(0.15, (
            "Squamous cell carcinoma of the {organ}, {tnm}, AJCC 8th stage {stage}, former smoker",
            "{Organ} carcinoma, {tnm}, stage {stage}, vocal cord mobility impaired",
        ), (O("glottic larynx", code="C32.0"), O("supraglottic larynx", code="C32.1")), (
            S("III", "cT3 cN0 M0"), S("III", "cT2 cN1 M0"), S("IVA", "cT4a cN2b M0"), S("IVA", "cT3 cN2c M0"),
        ), ("161.0", "161.1"), {"photon": 0.45, "proton": 0.55}, HN_DEFINITIVE),
        Subtype(0.10, (
            "Nasopharyngeal carcinoma, non-keratinizing, EBV positive, {tnm}, AJCC 8th stage {stage}",
            "Undifferentiated carcinoma of the {organ}, {tnm}, stage {stage}, planned concurrent cisplatin",
        ), (O("nasopharynx", code="C11.9"),), (
            S("II", "cT2 cN1 M0"), S("III", "cT3 cN2 M0"), S("IVA", "cT4 cN2 M0"),
        ), ("147.9",), {"photon": 0.45, "proton": 0.55}, HN_DEFINITIVE),
        Subtype(0.10, (
            "{hist} of the {organ}, {tnm}, s/p parotidectomy, perineural invasion",
            "{Organ} {hist}, high grade, {tnm}, s/p total parotidectomy and neck dissection",
        ), (O("{side} parotid gland", code="C07"),), (
            S("III", "pT3 pN0 M0"), S("IVA", "pT4a pN0 M0"), S("IVA", "pT2 pN2b M0"),
        ), ("142.0",), {"photon": 0.45, "proton": 0.55},
            (R("photon", 60, 30, "{side} parotid bed"), R("photon", 66, 33, "{side} parotid bed and neck"),
             R("proton", 60, 30, "{side} parotid bed"), R("proton", 66, 33, "{side} parotid bed and neck")),
            ("mucoepidermoid carcinoma", "salivary duct carcinoma", "adenoid cystic carcinoma")),
    )),
    Site("CNS", 0.08, 0.6, (57, 14, 19, 92), (
        Subtype(0.55, (
            "{Organ} {cns_hist}, s/p subtotal resection, KPS 80",
            "WHO {stage} {cns_hist}, {organ}, s/p gross total resection",
        ), (O("{side} frontal lobe", code="C71.1", weight=3), O("{side} temporal lobe", code="C71.2", weight=3),
            O("{side} parietal lobe", code="C71.3", weight=2), O("{side} occipital lobe", code="C71.4"),
            O("corpus callosum", code="C71.0")), (
            S("grade 4", fields={"cns_hist": "glioblastoma, IDH wild type, MGMT unmethylated"},
              regimens=(R("photon", 60, 30, "tumor bed"), R("photon", 40.05, 15, "tumor bed"),
                        R("photon", 46, 23, "tumor bed", boost=("photon", 14, 7)), R("proton", 60, 30, "tumor bed"))),
            S("grade 4", fields={"cns_hist": "glioblastoma, IDH wild type, MGMT methylated"},
              regimens=(R("photon", 60, 30, "tumor bed"), R("photon", 40.05, 15, "tumor bed"),
                        R("proton", 60, 30, "tumor bed"))),
            S("grade 3", fields={"cns_hist": "astrocytoma, IDH mutant"},
              regimens=(R("photon", 59.4, 33, "tumor bed"), R("proton", 59.4, 33, "tumor bed"))),
            S("grade 2", fields={"cns_hist": "oligodendroglioma, IDH mutant, 1p/19q codeleted"},
              regimens=(R("photon", 54, 30, "tumor bed"), R("proton", 54, 30, "tumor bed"))),
        ), ("191.1", "191.9"), {"photon": 0.55, "proton": 0.45}, ()),
        Subtype(0.30, (
            "{Organ}, {size} cm, residual after resection",
            "{Organ}, s/p resection, residual disease on MRI",
        ), (O("{side} skull base meningioma, WHO grade 1, encasing the cavernous carotid", code="D32.0", weight=2),
            O("atypical meningioma of the {side} parietal convexity, WHO grade 2", code="D42.0",
              regimens=(R("photon", 59.4, 33, "resection cavity"), R("proton", 59.4, 33, "resection cavity"))),
            O("nonfunctioning pituitary macroadenoma, s/p transsphenoidal approach", code="D35.2")),
            (S("benign", fields={"size": "2.9"}),), ("225.2", "227.3"), {"photon": 0.35, "proton": 0.65},
            (R("photon", 54, 30, "skull base"), R("photon", 50.4, 28, "residual tumor"),
             R("proton", 54, 30, "skull base"), R("proton", 50.4, 28, "residual tumor"))),
        Subtype(0.15, (
            "{Organ}",
            "{Organ}, referred for radiosurgery",
        ), (O("{side} vestibular schwannoma, 1.8 cm, serviceable hearing", code="D33.3",
              regimens=(R("photon", 12, 1, "{side} vestibular schwannoma", technique="sbrt"),
                        R("photon", 25, 5, "{side} vestibular schwannoma", technique="sbrt"),
                        R("proton", 50.4, 28, "{side} vestibular schwannoma"))),
            O("arteriovenous malformation of the {side} parietal lobe, Spetzler-Martin grade 2", code="Q28.2",
              regimens=(R("photon", 18, 1, "nidus", technique="sbrt"),))),
            (S("benign"),), ("225.1", "747.81"), {"photon": 0.85, "proton": 0.15}, ()),
    )),
    Site("GI", 0.10, 0.68, (64, 11, 28, 93), (
        Subtype(0.40, (
            "Adenocarcinoma of the {organ}, {tnm}, stage {stage}, CEA 4.2",
            "Adenocarcinoma, {organ}, {tnm}, moderately differentiated, MSI stable",
        ), (O("rectum", code="C20", weight=3), O("rectosigmoid junction", code="C19")), (
            S("IIA", "cT3 cN0 M0"), S("IIIB", "cT3 cN1 M0"), S("IIIC", "cT4a cN2a M0"), S("IIIB", "cT3 cN2a M0"),
        ), ("154.1", "154.0"), {"photon": 0.8, "proton": 0.2},
            (R("photon", 50.4, 28, "pelvis"), R("photon", 45, 25, "pelvis", boost=("photon", 5.4, 3)),
             R("photon", 25, 5, "pelvis"), R("proton", 50.4, 28, "pelvis"))),
        Subtype(0.25, (
            "{hist} of the {organ}, {tnm}, stage {stage}, planned concurrent carboplatin/paclitaxel",
            "{Organ} {hist}, {tnm}, EUS staged, PET avid",
        ), (O("distal esophagus", code="C15.5", weight=2), O("middle third of the esophagus", code="C15.4"),
            O("gastroesophageal junction", code="C16.0")), (
            S("II", "cT2 cN0 M0"), S("III", "cT3 cN1 M0"), S("IVA", "cT3 cN2 M0"),
        ), ("150.5", "150.4"), {"photon": 0.55, "proton": 0.45},
            (R("photon", 41.4, 23, "esophagus"), R("photon", 50.4, 28, "esophagus"),
             R("proton", 50.4, 28, "esophagus"), R("proton", 41.4, 23, "esophagus")),
            ("adenocarcinoma", "squamous cell carcinoma")),
        Subtype(0.15, (
            "Adenocarcinoma of the {organ}, {tnm}, borderline resectable, s/p FOLFIRINOX",
            "Pancreatic adenocarcinoma of the {organ}, {tnm}, stage {stage}, CA 19-9 210",
        ), (O("head of the pancreas", code="C25.0", weight=3), O("body of the pancreas", code="C25.1")), (
            S("IIA", "cT3 cN0 M0"), S("IIB", "cT2 cN1 M0"), S("III", "cT4 cN0 M0"),
        ), ("157.0", "157.1"), {"photon": 0.6, "proton": 0.4},
            (R("photon", 50.4, 28, "pancreas"), R("photon", 33, 5, "pancreas", technique="sbrt"),
             R("proton", 50.4, 28, "pancreas"))),
        Subtype(0.12, (
            "Squamous cell carcinoma of the {organ}, {tnm}, stage {stage}, HIV negative",
            "{Organ} squamous cell carcinoma, {tnm}, planned concurrent mitomycin/capecitabine",
        ), (O("anal canal", code="C21.1"),), (
            S("I", "cT1 cN0 M0"), S("IIA", "cT2 cN0 M0"), S("IIIA", "cT2 cN1a M0"), S("IIIC", "cT3 cN1a M0"),
        ), ("154.2",), {"photon": 0.8, "proton": 0.2},
            (R("photon", 54, 30, "anal canal and nodes"), R("photon", 50.4, 28, "anal canal and nodes"),
             R("proton", 54, 30, "anal canal and nodes"))),
        Subtype(0.08, (
            "Hepatocellular carcinoma of the {organ}, {size} cm, {tnm}, Child-Pugh A, not a transplant candidate",
            "Hepatocellular carcinoma, {organ}, {tnm}, AFP 310, s/p TACE",
        ), (O("liver, segment 7", code="C22.0"), O("liver, segment 4", code="C22.0")), (
            S("IB", "cT1b cN0 M0", {"size": "3.4"}), S("II", "cT2 cN0 M0", {"size": "4.1"}),
        ), ("155.0",), {"photon": 0.4, "proton": 0.6},
            (R("photon", 50, 5, "liver lesion", technique="sbrt"), R("photon", 40, 5, "liver lesion", technique="sbrt"),
             R("proton", 67.5, 15, "liver"), R("proton", 58.05, 15, "liver"))),
    )),
    Site("gyn", 0.04, 0.0, (56, 12, 24, 91), (
        Subtype(0.7, (
            "FIGO stage {stage} {hist}, {size} cm, {nodes}",
            "Cervical cancer, {hist}, FIGO {stage}, {size} cm, planned weekly cisplatin",
        ), (O("cervix", code="C53.9"),), (
            S("IB2", fields={"size": "3.1", "nodes": "pelvic nodes negative on PET"}),
            S("IB3", fields={"size": "4.6", "nodes": "pelvic nodes negative on PET"}),
            S("IIB", fields={"size": "5.2", "nodes": "parametrial extension, pelvic nodes negative on PET"}),
            S("IIIC1", fields={"size": "4.8", "nodes": "PET avid pelvic nodes"}),
        ), ("180.9",), {"photon": 0.81, "proton": 0.07, "brachy": 0.12},
            (R("photon", 45, 25, "pelvis", boost=("brachy", 28, 4)), R("photon", 50.4, 28, "pelvis", boost=("brachy",
                28, 4)),
             R("proton", 45, 25, "pelvis"), R("brachy", 28, 4, "cervix", technique="hdr")),
            ("squamous cell carcinoma of the cervix", "adenocarcinoma of the cervix")),
        Subtype(0.2, (
            "Endometrioid adenocarcinoma of the {organ}, FIGO grade {grade}, stage {stage}, s/p TAH BSO",
            "Endometrial cancer, endometrioid type, FIGO {stage}, grade {grade}, lymphovascular invasion present",
        ), (O("endometrium", code="C54.1"),), (S("IA"), S("IB"), S("II")), ("182.0",),
            {"photon": 0.8, "brachy": 0.2},
            (R("photon", 45, 25, "pelvis"), R("photon", 50.4, 28, "pelvis"),
             R("brachy", 21, 3, "vaginal cuff", technique="hdr"))),
        Subtype(0.1, (
            "Vulvar squamous cell carcinoma, {tnm}, s/p wide local excision and inguinal node dissection",
            "Squamous cell carcinoma of the {organ}, {tnm}, stage {stage}, close margin",
        ), (O("vulva", code="C51.9"),), (S("IB", "pT1b pN0 M0"), S("IIIA", "pT1b pN1a M0")), ("184.4",),
            {"photon": 1.0}, (R("photon", 50.4, 28, "vulva and inguinal nodes"),
                              R("photon", 45, 25, "vulva and inguinal nodes"))),
    )),
    Site("skin", 0.03, 0.65, (74, 10, 40, 100), (
        Subtype(0.45, (
            "Basal cell carcinoma of the {organ}, {size} cm, s/p Mohs, perineural invasion",
            "Basal cell carcinoma, {organ}, {tnm}, not a surgical candidate",
        ), (O("nose", code="C44.311"), O("{side} cheek", code="C44.319"),
            sided("{side} ear", "C44.212", "C44.219", "C44.211"), O("scalp", code="C44.41")),
            (S("I", "cT1 cN0 M0", {"size": "1.5"}), S("II", "cT2 cN0 M0", {"size": "2.6"})), ("173.3", "173.2"),
            {"electron": 0.87, "photon": 0.13},
            (R("electron", 50, 20, "skin lesion"), R("electron", 40, 10, "skin lesion"),
             R("electron", 35, 5, "skin lesion"), R("photon", 50, 20, "skin lesion"))),
        Subtype(0.45, (
            "Squamous cell carcinoma of the {organ}, {size} cm, s/p Mohs, perineural invasion",
            "Well differentiated squamous cell carcinoma, {organ}, {tnm}, not a surgical candidate",
        ), (O("nose", code="C44.321"), O("{side} cheek", code="C44.329"),
            sided("{side} ear", "C44.222", "C44.229", "C44.221"), O("scalp", code="C44.42"),
            sided("{side} forearm", "C44.622", "C44.629", "C44.621")),
            (S("I", "cT1 cN0 M0", {"size": "1.5"}), S("II", "cT2 cN0 M0", {"size": "2.6"}),
             S("III", "cT3 cN0 M0", {"size": "4.4"})), ("173.3", "173.4"),
            {"electron": 0.87, "photon": 0.13},
            (R("electron", 50, 20, "skin lesion"), R("electron", 60, 30, "tumor bed"),
             R("electron", 40, 10, "skin lesion"), R("photon", 60, 30, "tumor bed"), R("photon", 50, 20,
                 "skin lesion"))),
        Subtype(0.10, (
            "Melanoma of the {organ}, desmoplastic, Breslow 3.1 mm, s/p wide excision, {tnm}",
        ), (O("nose", code="C43.31"), O("{side} cheek", code="C43.39"), O("scalp", code="C43.4")),
            (S("IIA", "pT3a pN0 M0"),), ("172.3", "172.4"), {"electron": 0.87, "photon": 0.13},
            (R("electron", 30, 5, "tumor bed"), R("photon", 30, 5, "tumor bed"))),
    )),
    Site("lymphoma", 0.05, 0.55, (55, 17, 18, 92), (
        Subtype(0.35, (
            "Classical Hodgkin lymphoma, nodular sclerosis, {organ}, stage {stage}, s/p ABVD x 4",
            "Classical Hodgkin lymphoma, nodular sclerosis, Ann Arbor stage {stage}, {organ}, PET negative after ABVD",
        ), (O("{side} neck", code="C81.11", stages=(S("IA"),)), O("mediastinum", code="C81.12", stages=(S("IA"),)),
            O("{side} neck and mediastinum", code="C81.18", stages=(S("IIA"), S("IIB")), weight=2)), (),
            ("201.90",), {"photon": 0.65, "proton": 0.35},
            (R("photon", 30, 15, "involved site"), R("photon", 20, 10, "involved site"),
             R("proton", 30.6, 17, "involved site"), R("proton", 30, 15, "involved site"))),
        Subtype(0.35, (
            "Diffuse large B-cell lymphoma, {organ}, Ann Arbor stage {stage}, "
            "complete metabolic response after R-CHOP x 6",
            "Diffuse large B-cell lymphoma, stage {stage}, {organ}, bulky at diagnosis, s/p R-CHOP x 6",
        ), (O("{side} neck", code="C83.31", stages=(S("IA"),)), O("mediastinum", code="C83.32", stages=(S("IA"),)),
            O("{side} neck and mediastinum", code="C83.38", stages=(S("IIA"),))), (),
            ("202.80",), {"photon": 0.65, "proton": 0.35},
            (R("photon", 30.6, 17, "involved site"), R("photon", 36, 20, "involved site"),
             R("proton", 30.6, 17, "involved site"), R("proton", 36, 20, "involved site"))),
        Subtype(0.30, (
            "{hist}, {organ}, Ann Arbor stage {stage}",
            "{hist} of the {organ}, stage {stage}, no systemic symptoms",
        ), (O("{side} neck nodes", code="C82.01"), O("{side} inguinal nodes", code="C82.05")), (S("IA"),),
            ("202.00",), {"photon": 0.65, "proton": 0.35},
            (R("photon", 24, 12, "involved site"), R("proton", 24, 12, "involved site")),
            ("Follicular lymphoma, grade 1", "Follicular lymphoma grade 1, low tumor burden")),
    )),
    Site("sarcoma", 0.03, 0.55, (56, 16, 18, 90), (
        Subtype(0.8, (
            "{hist} of the {organ}, {size} cm, FNCLCC grade {fnclcc}, {tnm}",
            "{Organ} {hist}, FNCLCC grade {fnclcc}, {tnm}, planned preoperative radiation",
        ), (sided("{side} thigh", "C49.21", "C49.22", "C49.20", weight=3),
            sided("{side} upper arm", "C49.11", "C49.12", "C49.10"),
            sided("{side} calf", "C49.21", "C49.22", "C49.20"),
            O("retroperitoneum", code="C48.0", regimens=(R("photon", 50.4, 28, "retroperitoneum"),
                                                           R("proton", 50.4, 28, "retroperitoneum")))), (
            S("II", "cT1 cN0 M0", {"size": "4.2", "fnclcc": "2"}), S("IIIA", "cT2 cN0 M0", {"size": "8.5",
                "fnclcc": "3"}),
            S("IIIB", "cT3 cN0 M0", {"size": "12.0", "fnclcc": "3"}), S("IB", "cT2 cN0 M0", {"size": "7.0",
                "fnclcc": "1"}),
        ), ("171.3", "171.2"), {"photon": 0.5, "proton": 0.5},
            (R("photon", 50, 25, "{side} extremity"), R("photon", 60, 30, "tumor bed"), R("proton", 50, 25,
                "{side} extremity")),
            ("undifferentiated pleomorphic sarcoma", "myxoid liposarcoma", "synovial sarcoma", "leiomyosarcoma")),
        Subtype(0.2, (
            "{Organ}",
            "{Organ}, residual disease abutting the brainstem",
        ), (O("clival chordoma, s/p endoscopic subtotal resection", code="C41.0"),
            O("chondrosarcoma of the {side} petroclival junction", code="C41.0")),
            (S("localized"),), ("170.0",), {"proton": 0.9, "photon": 0.1},
            (R("proton", 74, 37, "skull base"), R("proton", 70, 35, "skull base"), R("photon", 70, 35, "skull base"))),
    )),
    Site("paediatric", 0.04, 0.55, (8, 5, 1, 17), (
        Subtype(1.0, (
            "{Organ}, age-appropriate anesthesia needs assessed",
            "Pediatric {organ}, COG protocol enrolled",
        ), (
            O("medulloblastoma of the cerebellum, standard risk, s/p gross total resection", code="C71.6", weight=2,
              regimens=(R("proton", 23.4, 13, "craniospinal axis", boost=("proton", 30.6, 17)),
                        R("photon", 23.4, 13, "craniospinal axis", boost=("photon", 30.6, 17)))),
            O("Ewing sarcoma of the pelvis", code="C41.4",
              regimens=(R("proton", 55.8, 31, "pelvis"), R("photon", 55.8, 31, "pelvis"))),
            sided("embryonal rhabdomyosarcoma of the {side} orbit", "C69.61", "C69.62", "C69.60",
                  regimens=(R("proton", 45, 25, "{side} orbit"),)),
            sided("high risk neuroblastoma of the {side} adrenal gland, s/p induction chemotherapy",
                  "C74.11", "C74.12", "C74.10", regimens=(R("proton", 21.6, 12, "{side} adrenal bed"),)),
            O("ependymoma of the fourth ventricle, s/p gross total resection", code="C71.7",
              regimens=(R("proton", 59.4, 33, "posterior fossa"),)),
            sided("Wilms tumor of the {side} kidney, favorable histology", "C64.1", "C64.2", "C64.9",
                  regimens=(R("photon", 10.8, 6, "{side} flank"),)),
        ), (S("localized"),), ("191.6", "170.6"), {"proton": 0.9, "photon": 0.1}, ()),
    )),
    Site("metastases", 0.04, 0.52, (64, 12, 25, 95), (
        Subtype(0.5, (
            "Metastatic {primary} to the {organ}, painful, no cord compression",
            "{primary} with osseous metastasis to the {organ}, pathologic fracture risk",
        ), (O("T10 vertebral body", code="C79.51"), O("L2 vertebral body", code="C79.51"),
            O("{side} femur", code="C79.51", regimens=MET_BONE[:2], weight=0.25),
            O("{side} iliac bone", code="C79.51", regimens=MET_BONE[:2], weight=0.25)),
            (S("IV"),), ("198.5",), {"photon": 1.0}, MET_BONE),
        Subtype(0.5, (
            "{primary} with solitary brain metastasis of the {organ}, {size} cm, s/p resection",
            "Oligometastatic {primary}, brain metastasis of the {organ}, {size} cm, KPS 90",
        ), (O("{side} cerebellar hemisphere", code="C79.31"), O("{side} frontal lobe", code="C79.31"),
            O("{side} occipital lobe", code="C79.31")), (S("IV", fields={"size": "1.8"}),), ("198.3",),
            {"photon": 0.9, "proton": 0.1},
            (R("photon", 20, 1, "brain metastasis", technique="sbrt"), R("photon", 24, 1, "brain metastasis",
                technique="sbrt"),
             R("photon", 27, 3, "resection cavity", technique="sbrt"), R("proton", 30, 10, "whole brain",
                 intent="palliative"))),
    )),
    Site("genitourinary", 0.03, 0.78, (72, 9, 40, 95), (
        Subtype(0.7, (
            "Muscle invasive urothelial carcinoma of the {organ}, {tnm}, s/p maximal TURBT, declines cystectomy",
            "Urothelial carcinoma of the {organ}, high grade, {tnm}, stage {stage}, bladder preservation",
        ), (O("bladder", code="C67.9", weight=2), O("lateral wall of the bladder", code="C67.2"),
            O("bladder trigone", code="C67.0")), (S("II", "cT2a cN0 M0"), S("II", "cT2b cN0 M0"), S("IIIA",
                "cT3a cN0 M0")),
            ("188.9", "188.2"), {"photon": 0.85, "proton": 0.15},
            (R("photon", 64, 32, "bladder"), R("photon", 55, 20, "bladder"), R("proton", 64, 32, "bladder"))),
        Subtype(0.3, (
            "Renal cell carcinoma, clear cell, {organ}, {size} cm, {tnm}, not a surgical candidate",
        ), (sided("{side} kidney", "C64.1", "C64.2", "C64.9"),),
            (S("I", "cT1a cN0 M0", {"size": "3.2"}), S("I", "cT1b cN0 M0", {"size": "5.1"})), ("189.0",),
            {"photon": 0.85, "proton": 0.15},
            (R("photon", 42, 3, "{side} kidney", technique="sbrt"), R("photon", 26, 1, "{side} kidney",
                technique="sbrt"),
             R("proton", 60, 10, "{side} kidney"))),
    )),
    Site("benign and eye", 0.01, 0.45, (55, 15, 18, 90), (
        Subtype(1.0, (
            "{Organ}",
            "{Organ}, referred for radiation",
        ), (
            sided("uveal melanoma of the {side} choroid, 8 mm apical height", "C69.31", "C69.32", "C69.30",
                  regimens=(R("proton", 50, 5, "{side} eye"),)),
            O("keloid of the {side} earlobe, recurrent after excision", code="L91.0",
              regimens=(R("electron", 12, 3, "{side} earlobe keloid"),)),
            O("Graves ophthalmopathy, progressive despite steroids", code="E05.00",
              regimens=(R("photon", 20, 10, "orbits"),)),
            sided("heterotopic ossification prophylaxis of the {side} thigh, s/p hip arthroplasty",
                  "M61.551", "M61.552", "M61.559", regimens=(R("photon", 7, 1, "{side} hip"),)),
        ), (S("localized"),), ("190.6", "701.4"), {"proton": 0.4, "photon": 0.35, "electron": 0.25}, ()),
    )),
)

# What the treatment machine records, by standard modality and technique.
MACHINE_LABELS = {
    ("photon", "conventional"): ("6X", "10X", "15X", "IMRT", "VMAT", "3D", "Photon", "PHOTONS", "6X-IMRT"),
    ("photon", "sbrt"): ("6FFF", "10FFF", "VMAT", "6X-FFF"),
    ("proton", "conventional"): ("IMPT", "PBS", "Proton", "Protons", "PROTON"),
    ("electron", "conventional"): ("6E", "9E", "12E", "16E", "Electron", "electrons"),
    ("brachy", "hdr"): ("HDR", "HDR Brachy", "Brachy"),
    ("brachy", "ldr"): ("LDR", "I-125 seeds", "Brachytherapy"),
    ("brachy", "conventional"): ("HDR", "Brachy"),
}
# Values an export really contains that no rule can map: these need annotation.
UNMAPPABLE_LABELS = ("Mixed", "Other", "See Rx", "TBD", "")

# How a physician writes the plan into the diagnosis text.
PLAN_WITH_KEYWORD = (
    "Plan {dose} Gy/ {fx} fx {word}",
    "plan: {dose} Gy in {fx} fractions {tech}",
    "PLAN {dose}Gy/{fx}fx {word} to {target}",
    "Plan - {tech} {dose} Gy/{fx} fx",
    "Treatment plan: {dose} Gy in {fx} fx to the {target}",
    "plan {dose} Gy/{fx} fx {word}, {target}",
)
PLAN_WITHOUT_KEYWORD = (
    "{TECH}, {fx} fractions, {dose} Gy",
    "{dose} Gy in {fx} fx {tech}",
    "Rx {dpf} Gy x {fx} {word}",
    "{cgy} cGy in {fx} fractions to the {target}",
    "{TECH} {dose} Gy/{fx} fx",
)
INITIALS = (" -JS", " - MB", " /kl", " JS/kl", " -RT", " /jdw", " - AK")
