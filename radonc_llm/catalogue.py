"""Clinical catalogue behind the synthetic Aria-like cohort.

Each disease site has a share of the cohort, a sex ratio, an age distribution and
subtypes; each subtype has diagnosis-text templates, ICD-10-CM and ICD-9-CM codes,
modality probabilities and the regimens a radiation oncologist would recognise for it.
The shares were tuned so that the curated default cohort matches the paper's "Data
cohort" section (64/32/3/1 % photon/proton/electron/brachy, mean age 62, 56 % male,
99 % curative); `tests/test_synthetic.py` checks the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Regimen:
    modality: str  # photon | proton | electron | brachy
    total_gy: float
    fractions: int
    target: str
    intent: str = "curative"
    boost: tuple[str, float, int] | None = None  # (modality, total_gy, fractions)
    technique: str = "conventional"  # conventional | sbrt | brachy (chooses the machine label)


@dataclass(frozen=True)
class Subtype:
    weight: float
    templates: tuple[str, ...]
    stages: tuple[str, ...]
    icd10: tuple[str, ...]
    icd9: tuple[str, ...]
    modality: dict  # label -> probability
    regimens: tuple[Regimen, ...]


@dataclass(frozen=True)
class Site:
    name: str
    weight: float
    p_male: float
    age: tuple[float, float, int, int]  # mean, sd, min, max
    subtypes: tuple[Subtype, ...]


R = Regimen

# Words filled into templates: {side}/{SIDE}/{Side} and {grade} are filled for every site.
FIELDS: dict[str, tuple[str, ...]] = {
    "er": ("positive", "positive", "positive", "negative"),
    "pr": ("positive", "positive", "negative"),
    "her2": ("negative", "negative", "negative", "positive", "equivocal, FISH negative"),
    "ki": ("5", "10", "15", "20", "30", "40"),
    "breast_hist": ("invasive ductal carcinoma", "invasive lobular carcinoma",
                    "invasive mammary carcinoma", "mixed ductal and lobular carcinoma"),
    "breast_surg": ("lumpectomy and sentinel node biopsy", "partial mastectomy",
                    "mastectomy and axillary dissection", "lumpectomy"),
    "gleason": ("3+3=6", "3+4=7", "4+3=7", "4+4=8", "4+5=9"),
    "psa": ("4.1", "5.6", "6.8", "7.9", "9.2", "11.4", "14.0", "22.5"),
    "cores": ("2/12", "3/12", "5/12", "6/14", "8/12"),
    "lung_hist": ("adenocarcinoma", "squamous cell carcinoma", "non-small cell carcinoma",
                  "adenocarcinoma, EGFR wild type, PD-L1 60%"),
    "lobe": ("right upper lobe", "left upper lobe", "right lower lobe", "left lower lobe",
             "right middle lobe"),
    "size": ("1.2", "1.8", "2.4", "2.9", "3.6", "4.5", "5.2"),
    "hn_site": ("base of tongue", "left tonsil", "right tonsil", "oral tongue", "glottic larynx",
                "supraglottic larynx", "nasopharynx", "floor of mouth", "parotid gland"),
    "p16": ("p16 positive", "p16 negative", "HPV associated, p16 positive"),
    "cns_hist": ("glioblastoma, IDH wild type, MGMT unmethylated",
                 "glioblastoma, IDH wild type, MGMT methylated",
                 "astrocytoma, IDH mutant, WHO grade 3", "oligodendroglioma, 1p/19q codeleted"),
    "lobe_brain": ("right frontal", "left temporal", "right parietal", "left frontal", "corpus callosum"),
    "gi_site": ("rectum", "distal esophagus", "pancreatic head", "anal canal", "sigmoid colon"),
    "gyn_hist": ("squamous cell carcinoma of the cervix", "adenocarcinoma of the cervix"),
    "skin_site": ("left cheek", "nasal tip", "right ear", "scalp", "right temple", "left forearm"),
    "skin_hist": ("basal cell carcinoma", "squamous cell carcinoma", "well differentiated squamous cell carcinoma"),
    "lymphoma_hist": ("classical Hodgkin lymphoma, nodular sclerosis", "diffuse large B-cell lymphoma",
                      "follicular lymphoma, grade 1-2", "extranodal marginal zone lymphoma"),
    "sarcoma_hist": ("undifferentiated pleomorphic sarcoma", "myxoid liposarcoma", "synovial sarcoma",
                     "leiomyosarcoma"),
    "limb": ("right thigh", "left thigh", "right upper arm", "left calf", "retroperitoneum"),
    "peds_hist": ("medulloblastoma, standard risk, s/p gross total resection",
                  "Ewing sarcoma of the pelvis", "embryonal rhabdomyosarcoma of the orbit",
                  "high risk neuroblastoma, s/p induction chemotherapy", "ependymoma of the posterior fossa",
                  "Wilms tumor, favorable histology"),
    "primary": ("lung adenocarcinoma", "breast cancer", "renal cell carcinoma", "melanoma",
                "prostate cancer", "colorectal cancer"),
    "met_site": ("T10 vertebral body", "left femur", "L2 vertebral body", "right iliac bone", "T6 vertebra"),
    "brain_met": ("right cerebellar", "left frontal", "right occipital", "left parietal"),
    "bladder_hist": ("muscle invasive urothelial carcinoma of the bladder", "urothelial carcinoma, high grade"),
}

SITES: tuple[Site, ...] = (
    Site("breast", 0.17, 0.01, (62, 11, 24, 95), (
        Subtype(0.85, (
            "AJCC 8th edition prognostic stage {stage} ({tnm}) {SIDE} {breast_hist}, grade {grade}, "
            "estrogen receptor {er}, progesterone receptor {pr}, HER2/Neu {her2}. Stage X,{tnm}, G{grade}, "
            "ER {er}, PR {pr}",
            "{Side} breast {breast_hist}, {tnm}, ER {er}, PR {pr}, HER2 {her2}, Ki-67 {ki}%, s/p {breast_surg}",
            "{SIDE} breast cancer, {breast_hist}, grade {grade}, {tnm}, s/p {breast_surg} and adjuvant chemotherapy",
        ), ("IA", "IA", "IB", "IIA", "IIB", "IIIA", "IIIC"),
            ("C50.911", "C50.912", "C50.411", "C50.412", "C50.811", "C50.212", "C50.919"),
            ("174.9", "174.4", "174.8"),
            {"photon": 0.81, "proton": 0.17, "electron": 0.02},
            (R("photon", 40.05, 15, "whole breast"), R("photon", 26, 5, "whole breast"),
             R("photon", 42.56, 16, "whole breast"), R("photon", 50, 25, "chest wall and regional nodes"),
             R("photon", 50, 25, "whole breast", boost=("electron", 10, 5)),
             R("photon", 40.05, 15, "whole breast", boost=("photon", 10, 4)),
             R("proton", 50, 25, "chest wall and regional nodes"), R("proton", 50.4, 28, "left chest wall and nodes"),
             R("electron", 50, 25, "chest wall")),
        ),
        Subtype(0.15, (
            "{SIDE} breast ductal carcinoma in situ, {tnm}, nuclear grade {grade}, ER {er}, s/p {breast_surg}",
            "DCIS of the {side} breast, high nuclear grade, comedo necrosis, margins negative",
        ), ("0",), ("D05.11", "D05.12", "D05.10"), ("233.0",),
            {"photon": 1.0},
            (R("photon", 40.05, 15, "whole breast"), R("photon", 26, 5, "whole breast"),
             R("photon", 42.56, 16, "whole breast"))),
    )),
    Site("prostate", 0.18, 1.0, (68, 7, 42, 92), (
        Subtype(1.0, (
            "Adenocarcinoma of the prostate, Gleason {gleason}, PSA {psa} ng/mL, {cores} cores positive, {tnm}",
            "Prostate adenocarcinoma, {tnm}, Gleason score {gleason}, Grade Group {grade}, PSA {psa}, NCCN intermediate risk",
            "Prostate cancer, Gleason {gleason}, iPSA {psa}, {tnm}, MRI PI-RADS 5 lesion in the {side} peripheral zone",
        ), ("I", "IIA", "IIB", "IIC", "IIIA"), ("C61",), ("185",),
            {"photon": 0.61, "proton": 0.36, "brachy": 0.03},
            (R("photon", 70, 28, "prostate"), R("photon", 78, 39, "prostate and seminal vesicles"),
             R("photon", 60, 20, "prostate"), R("photon", 36.25, 5, "prostate", technique="sbrt"),
             R("proton", 79.2, 44, "prostate and seminal vesicles"), R("proton", 70, 28, "prostate"),
             R("proton", 36.25, 5, "prostate"),
             R("brachy", 145, 1, "prostate seed implant", technique="ldr"),
             R("brachy", 15, 1, "prostate", technique="hdr"))),
    )),
    Site("lung", 0.10, 0.56, (69, 9, 35, 95), (
        Subtype(0.55, (
            "{lobe} {lung_hist}, {size} cm, {tnm}, biopsy proven, medically inoperable",
            "Stage {stage} {lung_hist} of the {lobe}, {tnm}, PET avid, no nodal disease on EBUS",
        ), ("IA", "IB", "IIA"), ("C34.11", "C34.12", "C34.31", "C34.32", "C34.2", "C34.90"), ("162.3", "162.5", "162.9"),
            {"photon": 0.9, "proton": 0.1},
            (R("photon", 54, 3, "lung lesion", technique="sbrt"), R("photon", 50, 5, "lung lesion", technique="sbrt"),
             R("photon", 60, 8, "central lung lesion", technique="sbrt"), R("photon", 48, 4, "lung lesion", technique="sbrt"),
             R("proton", 60, 8, "central lung lesion"))),
        Subtype(0.45, (
            "Stage {stage} {lung_hist} of the {lobe} with mediastinal adenopathy, {tnm}, planned concurrent carboplatin/paclitaxel",
            "Locally advanced {lung_hist}, {lobe}, {tnm}, unresectable",
        ), ("IIIA", "IIIB", "IIIC"), ("C34.11", "C34.12", "C34.31", "C34.90"), ("162.9",),
            {"photon": 0.55, "proton": 0.45},
            (R("photon", 60, 30, "lung and mediastinum"), R("photon", 66, 33, "lung and mediastinum"),
             R("proton", 60, 30, "lung and mediastinum"), R("proton", 70, 35, "lung and mediastinum"))),
    )),
    Site("head and neck", 0.10, 0.8, (64, 10, 22, 93), (
        Subtype(1.0, (
            "Squamous cell carcinoma of the {hn_site}, {p16}, {tnm}, AJCC 8th stage {stage}",
            "{SIDE} {hn_site} SCC, {tnm}, {p16}, s/p transoral resection, positive margin",
            "{hn_site} carcinoma, {tnm}, {p16}, ECOG 0, planned concurrent cisplatin",
        ), ("I", "II", "III", "IVA", "IVB"),
            ("C01", "C09.9", "C02.9", "C32.0", "C32.1", "C11.9", "C04.9", "C07"), ("141.0", "146.0", "161.0"),
            {"photon": 0.45, "proton": 0.55},
            (R("photon", 70, 35, "bilateral neck"), R("photon", 66, 33, "tumor bed and neck"),
             R("photon", 60, 30, "postoperative bed"), R("proton", 70, 35, "bilateral neck"),
             R("proton", 69.96, 33, "primary and bilateral neck"), R("proton", 60, 30, "postoperative bed"))),
    )),
    Site("CNS", 0.08, 0.6, (57, 14, 19, 92), (
        Subtype(0.55, (
            "{lobe_brain} {cns_hist}, s/p subtotal resection, KPS 80",
            "WHO grade 4 {cns_hist} of the {lobe_brain} lobe, s/p gross total resection",
        ), ("grade 4", "grade 3", "grade 2"), ("C71.1", "C71.2", "C71.3", "C71.9", "C71.0"), ("191.1", "191.9"),
            {"photon": 0.55, "proton": 0.45},
            (R("photon", 60, 30, "tumor bed"), R("photon", 40.05, 15, "tumor bed"),
             R("photon", 46, 23, "tumor bed", boost=("photon", 14, 7)), R("proton", 60, 30, "tumor bed"),
             R("proton", 54, 30, "tumor bed"), R("proton", 59.4, 33, "tumor bed"))),
        Subtype(0.30, (
            "{Side} skull base meningioma, WHO grade 1, {size} cm, encasing the cavernous carotid",
            "Atypical meningioma of the {side} parietal convexity, WHO grade 2, s/p resection",
            "Nonfunctioning pituitary macroadenoma, s/p transsphenoidal resection, residual disease",
        ), ("benign",), ("D32.0", "D32.9", "D35.2", "D42.0"), ("225.2", "227.3"),
            {"photon": 0.35, "proton": 0.65},
            (R("photon", 54, 30, "skull base"), R("photon", 50.4, 28, "residual tumor"),
             R("proton", 54, 30, "skull base"), R("proton", 50.4, 28, "residual tumor"))),
        Subtype(0.15, (
            "{Side} vestibular schwannoma, {size} cm, serviceable hearing",
            "Arteriovenous malformation of the {side} parietal lobe, Spetzler-Martin grade 2",
            "{Side} trigeminal neuralgia, medically refractory",
        ), ("benign",), ("D33.3", "Q28.2", "G50.0"), ("225.1", "350.1"),
            {"photon": 0.85, "proton": 0.15},
            (R("photon", 12, 1, "target", technique="sbrt"), R("photon", 18, 1, "nidus", technique="sbrt"),
             R("photon", 25, 5, "target", technique="sbrt"), R("proton", 50.4, 28, "target"))),
    )),
    Site("GI", 0.10, 0.68, (64, 11, 28, 93), (
        Subtype(1.0, (
            "Adenocarcinoma of the {gi_site}, {tnm}, stage {stage}, CEA 4.2",
            "{gi_site} carcinoma, {tnm}, moderately differentiated, MSI stable",
            "Squamous cell carcinoma of the {gi_site}, {tnm}, planned concurrent chemotherapy",
        ), ("II", "IIIA", "IIIB", "III"), ("C20", "C15.5", "C25.0", "C21.1", "C18.7", "C22.0"),
            ("154.1", "150.5", "157.0"),
            {"photon": 0.7, "proton": 0.3},
            (R("photon", 50.4, 28, "pelvis"), R("photon", 45, 25, "pelvis", boost=("photon", 5.4, 3)),
             R("photon", 25, 5, "pelvis"), R("photon", 54, 30, "anal canal and nodes"),
             R("photon", 50, 5, "liver lesion", technique="sbrt"), R("proton", 50.4, 28, "esophagus"),
             R("proton", 67.5, 15, "liver"), R("proton", 50.4, 28, "pancreas"))),
    )),
    Site("gyn", 0.04, 0.0, (56, 12, 24, 91), (
        Subtype(0.7, (
            "FIGO stage {stage} {gyn_hist}, {size} cm, pelvic nodes negative on PET",
            "Cervical cancer, {gyn_hist}, FIGO {stage}, planned weekly cisplatin",
        ), ("IB2", "IB3", "IIA", "IIB", "IIIC1"), ("C53.9", "C53.0", "C53.1"), ("180.9",),
            {"photon": 0.81, "proton": 0.07, "brachy": 0.12},
            (R("photon", 45, 25, "pelvis", boost=("brachy", 28, 4)), R("photon", 50.4, 28, "pelvis", boost=("brachy", 28, 4)),
             R("proton", 45, 25, "pelvis"), R("brachy", 28, 4, "cervix", technique="hdr"))),
        Subtype(0.3, (
            "Endometrioid adenocarcinoma of the endometrium, FIGO grade {grade}, stage {stage}, s/p TAH BSO",
            "Vulvar squamous cell carcinoma, {tnm}, s/p wide local excision",
        ), ("IA", "IB", "II"), ("C54.1", "C51.9"), ("182.0", "184.4"),
            {"photon": 0.85, "brachy": 0.15},
            (R("photon", 45, 25, "pelvis"), R("photon", 50.4, 28, "pelvis"), R("brachy", 21, 3, "vaginal cuff", technique="hdr"))),
    )),
    Site("skin", 0.03, 0.65, (74, 10, 40, 100), (
        Subtype(1.0, (
            "{skin_hist} of the {skin_site}, {size} cm, s/p Mohs, perineural invasion",
            "{skin_hist}, {skin_site}, {tnm}, not a surgical candidate",
            "Melanoma of the {skin_site}, desmoplastic, Breslow 3.1 mm, s/p wide excision",
        ), ("I", "II"), ("C44.311", "C44.319", "C44.221", "C44.42", "C43.39", "C44.612"), ("173.3", "172.3"),
            {"electron": 0.87, "photon": 0.13},
            (R("electron", 50, 20, "skin lesion"), R("electron", 40, 10, "skin lesion"),
             R("electron", 35, 5, "skin lesion"), R("electron", 60, 30, "tumor bed"),
             R("photon", 50, 20, "skin lesion"), R("photon", 30, 5, "tumor bed"))),
    )),
    Site("lymphoma", 0.05, 0.55, (55, 17, 18, 92), (
        Subtype(1.0, (
            "{lymphoma_hist}, stage {stage}, {side} neck and mediastinum, s/p ABVD x 4",
            "{lymphoma_hist}, Ann Arbor stage {stage}, complete metabolic response after R-CHOP x 6",
            "{lymphoma_hist} of the {side} orbit, stage IE",
        ), ("IA", "IIA", "IIB", "IE"), ("C81.10", "C83.30", "C82.00", "C88.4", "C81.92"), ("201.90", "202.80"),
            {"photon": 0.65, "proton": 0.35},
            (R("photon", 30.6, 17, "involved site"), R("photon", 20, 10, "involved site"), R("photon", 24, 12, "orbit"),
             R("photon", 36, 20, "involved site"), R("proton", 30.6, 17, "mediastinum"), R("proton", 30, 15, "involved site"))),
    )),
    Site("sarcoma", 0.03, 0.55, (56, 16, 18, 90), (
        Subtype(0.8, (
            "{sarcoma_hist} of the {limb}, {size} cm, high grade, {tnm}",
            "{limb} {sarcoma_hist}, FNCLCC grade {grade}, planned preoperative radiation",
        ), ("IB", "II", "IIIA"), ("C49.21", "C49.22", "C49.11", "C48.0", "C49.9"), ("171.3", "171.9"),
            {"photon": 0.5, "proton": 0.5},
            (R("photon", 50, 25, "extremity"), R("photon", 60, 30, "tumor bed"), R("proton", 50.4, 28, "retroperitoneum"),
             R("proton", 50, 25, "extremity"))),
        Subtype(0.2, (
            "Clival chordoma, s/p endoscopic subtotal resection",
            "Chondrosarcoma of the {side} petroclival junction, low grade",
        ), ("localized",), ("C41.0",), ("170.0",),
            {"proton": 0.9, "photon": 0.1},
            (R("proton", 74, 37, "skull base"), R("proton", 70, 35, "skull base"), R("photon", 70, 35, "skull base"))),
    )),
    Site("paediatric", 0.04, 0.55, (8, 5, 1, 17), (
        Subtype(1.0, (
            "{peds_hist}, age-appropriate anesthesia needs assessed",
            "Pediatric {peds_hist}, COG protocol enrolled",
        ), ("standard risk", "high risk", "intermediate risk"), ("C71.6", "C41.4", "C49.9", "C74.90", "C71.7", "C64.9"),
            ("191.6", "170.6"),
            {"proton": 0.9, "photon": 0.1},
            (R("proton", 23.4, 13, "craniospinal axis", boost=("proton", 30.6, 17)), R("proton", 55.8, 31, "tumor bed"),
             R("proton", 50.4, 28, "orbit"), R("proton", 21.6, 12, "adrenal bed"), R("proton", 59.4, 33, "posterior fossa"),
             R("photon", 10.8, 6, "flank"))),
    )),
    Site("metastases", 0.04, 0.52, (64, 12, 25, 95), (
        Subtype(0.5, (
            "Metastatic {primary} to the {met_site}, painful, no cord compression",
            "{primary} with osseous metastasis to the {met_site}, pathologic fracture risk",
        ), ("IV",), ("C79.51", "C79.52"), ("198.5",),
            {"photon": 1.0},
            (R("photon", 8, 1, "bone metastasis", intent="palliative"), R("photon", 20, 5, "spine", intent="palliative"),
             R("photon", 24, 2, "spine", technique="sbrt"), R("photon", 27, 3, "spine", technique="sbrt"),
             R("photon", 30, 5, "spine", technique="sbrt"))),
        Subtype(0.5, (
            "{primary} with solitary {brain_met} brain metastasis, {size} cm, s/p resection",
            "Oligometastatic {primary}, {brain_met} brain metastasis, KPS 90",
        ), ("IV",), ("C79.31", "C79.32"), ("198.3",),
            {"photon": 0.9, "proton": 0.1},
            (R("photon", 20, 1, "brain metastasis", technique="sbrt"), R("photon", 24, 1, "brain metastasis", technique="sbrt"),
             R("photon", 27, 3, "resection cavity", technique="sbrt"), R("proton", 30, 10, "whole brain", intent="palliative"))),
    )),
    Site("genitourinary", 0.03, 0.78, (72, 9, 40, 95), (
        Subtype(1.0, (
            "{bladder_hist}, {tnm}, s/p maximal TURBT, declines cystectomy",
            "Renal cell carcinoma, clear cell, {side} kidney, {size} cm, {tnm}, not a surgical candidate",
        ), ("II", "IIIA", "I"), ("C67.9", "C67.2", "C64.1", "C64.2"), ("188.9", "189.0"),
            {"photon": 0.85, "proton": 0.15},
            (R("photon", 64, 32, "bladder"), R("photon", 55, 20, "bladder"), R("photon", 42, 3, "kidney", technique="sbrt"),
             R("photon", 26, 1, "kidney", technique="sbrt"), R("proton", 64, 32, "bladder"))),
    )),
    Site("benign and eye", 0.01, 0.45, (55, 15, 18, 90), (
        Subtype(1.0, (
            "{Side} uveal melanoma, choroidal, 8 mm apical height",
            "Keloid of the {side} earlobe, recurrent after excision",
            "Graves ophthalmopathy, progressive despite steroids",
            "Heterotopic ossification prophylaxis, {side} hip, s/p arthroplasty",
        ), ("localized",), ("C69.31", "C69.32", "L91.0", "E05.00", "M61.50"), ("190.6", "701.4"),
            {"proton": 0.4, "photon": 0.35, "electron": 0.25},
            (R("proton", 50, 5, "eye"), R("photon", 20, 10, "orbits"), R("photon", 7, 1, "hip"),
             R("electron", 12, 3, "keloid"))),
    )),
)

TNM = ("pT1a Nx M0", "pT1c pN0 M0", "cT2 cN0 M0", "cT1b N0", "pT2 pN1a M0", "cT3 cN1 M0", "cT2a N0 M0",
       "cT3a N0 M0", "cT4a N2c M0", "pT1b pN0(sn) M0")

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
