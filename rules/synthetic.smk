# The embedded default: a seeded synthetic Aria-like cohort (no private data needed).
rule synthetic_cohort:
    input:
        catalogue=package_data("catalogue.yaml"),
    output:
        diagnoses=SYNTHETIC_EXPORTS["diagnoses"],
        plans=SYNTHETIC_EXPORTS["plans"],
    log:
        run_path("logs/synthetic_cohort.log"),
    benchmark:
        run_path("benchmarks/synthetic_cohort.tsv")
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        n_patients=config["synthetic"]["n_patients"],
        seed=config["synthetic"]["seed"],
        coding_noise=config["synthetic"].get("coding_noise", {}),
        ambiguity=config["synthetic"].get("ambiguity", {}),
        generator=source_fingerprint("synthetic"),
    script:
        "../scripts/synthetic_cohort.py"
