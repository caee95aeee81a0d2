# Curation steps 1-4 and 6 (one row per case), step 5's manual overrides, and the cohort summary.
rule curate:
    input:
        diagnoses=raw_export("diagnoses"),
        plans=raw_export("plans"),
        text_separations=plan.annotation_table(config, "text_separations"),
    output:
        cases=run_path("data/cases.parquet"),
        steps=run_path("data/curation_steps.csv"),
    log:
        run_path("logs/curate.log"),
    benchmark:
        run_path("benchmarks/curate.tsv")
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        raw=config["raw"],
        synthetic=raw_is_synthetic(),
        synonyms=config["modality"].get("synonyms", {}),
        window=config["curation"]["window"],
        key_fingerprint=key_fingerprint(),
    script:
        "../scripts/curate.py"


rule modality_labels:
    input:
        cases=run_path("data/cases.parquet"),
        overrides=plan.annotation_table(config, "modality_overrides"),
    output:
        labels=run_path("data/modality_labels.parquet"),
        needs_annotation=report(
            run_path("data/needs_annotation.csv"),
            caption="../report/needs_annotation.rst",
            category="Data",
        ),
    log:
        run_path("logs/modality_labels.log"),
    priority: 3
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    script:
        "../scripts/modality_labels.py"


rule cohort_summary:
    input:
        cases=run_path("data/cases.parquet"),
        steps=run_path("data/curation_steps.csv"),
        labels=run_path("data/modality_labels.parquet"),
    output:
        funnel=report(
            run_path("data/curation_funnel.csv"),
            caption="../report/funnel.rst",
            category="Data",
        ),
        figure_png=report(
            run_path("data/curation_funnel.png"),
            caption="../report/funnel.rst",
            category="Data",
        ),
        figure_pdf=run_path("data/curation_funnel.pdf"),
        cohort=report(
            run_path("data/cohort.csv"),
            caption="../report/cohort.rst",
            category="Data",
        ),
    log:
        run_path("logs/cohort_summary.log"),
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    script:
        "../scripts/cohort_summary.py"


# Data quality: does each case's diagnosis text agree with its ICD-10 code (side, organ, behaviour, stage)?
rule consistency:
    input:
        cases=run_path("data/cases.parquet"),
        staging=package_data("ajcc_staging.yaml"),
    output:
        cases=run_path("data/consistency.csv"),
        summary=report(
            run_path("data/consistency_summary.csv"),
            caption="../report/consistency.rst",
            category="Data",
        ),
    log:
        run_path("logs/consistency.log"),
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        checker=source_fingerprint("consistency"),
    script:
        "../scripts/consistency.py"
