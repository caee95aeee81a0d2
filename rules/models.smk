# The demo's tiny stand-in base models (a hospital's 7B bases are local directories instead).
rule tiny_tokenizer:
    input:
        # not the modality pairs: editing a modality override must not rebuild the bases
        regimen=run_path("pairs/regimen/train.parquet"),
        icd10=run_path("pairs/icd10/train.parquet"),
    output:
        directory(run_path("models/tokenizer")),
    log:
        run_path("logs/tiny_tokenizer.log"),
    priority: 1
    conda:
        "../envs/train.yaml"
    resources:
        **slurm_placement(0),
    params:
        vocab_size=config["tiny"]["vocab_size"],
        instructions=[config["tasks"][t]["instruction"] for t in TASKS],
    script:
        "../scripts/tiny_tokenizer.py"


rule tiny_base:
    input:
        tokenizer=run_path("models/tokenizer"),
        diagnoses=run_path("pairs/regimen/train.parquet"),
        # never pre-trained on a case a task evaluates on or chooses its settings on; not the pairs of a task
        # answered from the annotation tables (modality, whose eval cases are regimen's): editing an override
        # must not rebuild the bases
        held_out=expand(
            run_path("pairs/{task}/{split}.parquet"),
            task=[t for t in TASKS if not TASK_REGISTRY[t].labelled],
            split=["eval", "selection"],
        ),
    output:
        config=run_path("models/base/{model}/config.json"),
        weights=run_path("models/base/{model}/model.safetensors"),
        tokenizer=run_path("models/base/{model}/tokenizer.json"),
    log:
        run_path("logs/tiny_base/{model}.log"),
    benchmark:
        run_path("benchmarks/tiny_base/{model}.tsv")
    wildcard_constraints:
        model="|".join(TINY_MODELS) or "^$",
    priority: 1
    conda:
        "../envs/train.yaml"
    threads: config["tiny"]["threads"]
    resources:
        **slurm_placement(0),
    params:
        architecture=model_setting("tiny"),
        prompt_format=model_setting("prompt_format"),
        settings={
            k: v
            for k, v in config["tiny"].items()
            if k not in ("threads", "own_exports")
        },
        precision=config["finetune"]["precision"],
        model_dir=run_path("models/base/{model}"),
    script:
        "../scripts/tiny_base.py"


# A real pretrained model shipped as a GGUF file inside an installed package (requirements-nodeps.txt):
# checked against its sha256 and dequantised into an ordinary local safetensors directory.
rule gguf_base:
    output:
        config=run_path("models/base/{model}/config.json"),
        weights=run_path("models/base/{model}/model.safetensors"),
        tokenizer=run_path("models/base/{model}/tokenizer.json"),
        provenance=run_path("models/base/{model}/provenance.json"),
    log:
        run_path("logs/gguf_base/{model}.log"),
    benchmark:
        run_path("benchmarks/gguf_base/{model}.tsv")
    wildcard_constraints:
        model="|".join(GGUF_MODELS) or "^$",
    priority: 1
    conda:
        "../envs/train.yaml"
    resources:
        **slurm_placement(0),
    params:
        gguf=model_setting("gguf"),
        model_dir=run_path("models/base/{model}"),
    script:
        "../scripts/gguf_base.py"
