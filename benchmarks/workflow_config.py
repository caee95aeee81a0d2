"""The workflow's config as a benchmark needs it: config.yaml, with config/smollm2.yaml merged over it for
the real model (as `snakemake --configfile config/smollm2.yaml` merges it)."""
from pathlib import Path

import yaml

from radonc_llm import plan

root = Path(__file__).parents[1]


def merged(base: dict, overlay: dict) -> dict:
    """`overlay` over `base`, nested keys too (as snakemake merges --configfile files)."""
    return {**base, **{k: merged(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
                       for k, v in overlay.items()}}


def workflow_config(model: str) -> dict:
    """The config, with `results` (the run's results folder) and the path of every base the workflow builds."""
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    if model == "smollm2-135m":
        config = merged(config, yaml.safe_load((root / "config" / "smollm2.yaml").read_text()))
    config["results"] = root / plan.run_root(config)
    for name, spec in config["models"].items():
        if plan.built(spec):
            spec["path"] = str(root / plan.model_dir(config, name))
    return config
