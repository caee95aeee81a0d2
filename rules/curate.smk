# Curation steps 1-4 and 6 (one row per case), step 5's manual overrides, and the cohort summary.
rule curate:
    input:
        diagnoses=config["raw"]["diagnoses"],
        plans=config["raw"]["plans"],
        text_separations=config["annotations"]["text_separations"],
    output:
        cases="results/data/cases.parquet",
        steps="results/data/curation_steps.csv",
    log:
        "results/logs/curate.log",
    benchmark:
        "results/benchmarks/curate.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        raw=config["raw"],
        synthetic=raw_is_synthetic(),
        synonyms=config["modality"].get("synonyms", {}),
        key_fingerprint=key_fingerprint(),
    script:
        "../scripts/curate.py"


rule modality_labels:
    input:
        cases="results/data/cases.parquet",
        overrides=config["annotations"]["modality_overrides"],
    output:
        labels="results/data/modality_labels.parquet",
        needs_annotation=report(
            "results/data/needs_annotation.csv",
            caption="../report/needs_annotation.rst",
            category="Data",
        ),
    log:
        "results/logs/modality_labels.log",
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    script:
        "../scripts/modality_labels.py"


rule cohort_summary:
    input:
        cases="results/data/cases.parquet",
        steps="results/data/curation_steps.csv",
        labels="results/data/modality_labels.parquet",
    output:
        funnel=report(
            "results/data/curation_funnel.csv",
            caption="../report/funnel.rst",
            category="Data",
        ),
        figure_png=report(
            "results/data/curation_funnel.png",
            caption="../report/funnel.rst",
            category="Data",
        ),
        figure_pdf="results/data/curation_funnel.pdf",
        cohort=report(
            "results/data/cohort.csv", caption="../report/cohort.rst", category="Data"
        ),
    log:
        "results/logs/cohort_summary.log",
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    script:
        "../scripts/cohort_summary.py"


# Data quality: does each case's diagnosis text agree with its ICD-10 code (side, organ, behaviour, stage)?
rule consistency:
    input:
        cases="results/data/cases.parquet",
    output:
        cases="results/data/consistency.csv",
        summary=report(
            "results/data/consistency_summary.csv",
            caption="../report/consistency.rst",
            category="Data",
        ),
    log:
        "results/logs/consistency.log",
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        checker=source_fingerprint("consistency"),
    script:
        "../scripts/consistency.py"
