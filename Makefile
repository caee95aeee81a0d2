# One command to set up and run the demo, one to run the tests (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The PyTorch build: cpu (default), or a CUDA build, e.g. make install TORCH=cu126 (the builds PyTorch lists for
# 2.13.0), from the index or wheelhouse pip is configured with (PIP_INDEX_URL, PIP_FIND_LINKS, pip.conf);
# PyTorch's own index is the fallback for the CPU build, and for a CUDA build only when asked:
# make install TORCH=cu126 TORCH_INDEX=https://download.pytorch.org/whl/cu126. TORCH=pypi takes PyPI's default
# build (CUDA on Linux, several GB).
TORCH ?= cpu
TORCH_INDEX ?= $(if $(filter cpu,$(TORCH)),https://download.pytorch.org/whl/cpu)
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: install demo real curve test test-slurm lint report benchmark rulegraph clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	  echo "error: radonc-llm needs Python 3.11; '$(PYTHON)' is" \
	       "$$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'not found'):" \
	       "install python3.11 or run make install PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
# torch: from the index or wheelhouse pip is configured with (a hospital's mirror), else from TORCH_INDEX
ifeq ($(TORCH),pypi)
	$(BIN)/pip install --quiet torch==2.13.0
else
	$(BIN)/pip install --quiet torch==2.13.0+$(TORCH) 2>/dev/null \
	|| { [ -n "$(TORCH_INDEX)" ] && $(BIN)/pip install --quiet torch==2.13.0+$(TORCH) --extra-index-url $(TORCH_INDEX); } \
	|| { echo "error: torch 2.13.0+$(TORCH) is not in the index or wheelhouse pip is configured with" \
	          "(PIP_INDEX_URL, PIP_FIND_LINKS): point pip at your wheelhouse, or add" \
	          "TORCH_INDEX=https://download.pytorch.org/whl/$(TORCH) to fetch it from PyTorch's index" >&2; exit 1; }
endif
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

demo: install
	$(BIN)/snakemake --profile profiles/local

real: install  # the whole study on a real pretrained model, SmolLM2-135M-Instruct (docs/real-model.md)
	$(BIN)/snakemake --profile profiles/local --configfile config/smollm2.yaml

curve: install  # the learning curve of the demo's run; of another run: add CONFIG=config/smollm2.yaml
	$(BIN)/snakemake learning_curve --profile profiles/local $(if $(CONFIG),--configfile $(CONFIG))

test: install  # two pytest-xdist workers, a test file at a time; the workflow's tests start first (tests/conftest.py)
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

test-slurm: install  # the live SLURM, and the two-process fine-tuning killed and resumed
	$(BIN)/python -m pytest -m 'slurm or multiprocess' tests/test_slurm.py tests/test_finetune.py

report: install  # both reports of the demo's run (of another run: add CONFIG=config/smollm2.yaml): the study report,
	# results/<run>/study_report.html and .md (running what it needs first), then Snakemake's report.html
	$(BIN)/snakemake study_report --profile profiles/local $(if $(CONFIG),--configfile $(CONFIG))
	$(BIN)/snakemake --report report.html $(if $(CONFIG),--configfile $(CONFIG))

lint: install  # also part of make test (tests/test_style.py, tests/test_workflow.py)
	$(BIN)/snakemake --lint
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules/

rulegraph: install  # docs/rulegraph.svg, the README's rule graph; needs graphviz's dot (apt-get install graphviz)
	$(BIN)/snakemake --rulegraph 2>/dev/null | dot -Tsvg -o docs/rulegraph.svg

benchmark: install
	$(BIN)/python benchmarks/data_pipeline.py
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/training.py dropout
	$(BIN)/python benchmarks/training.py bf16
	$(BIN)/python benchmarks/dataset_preparation.py
	$(BIN)/python benchmarks/prompted.py
	$(BIN)/python benchmarks/generation.py --scan
	$(BIN)/python benchmarks/memory_batches.py
	$(BIN)/python benchmarks/baselines.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/noop_dryrun.py
	$(BIN)/python benchmarks/selection_stability.py
	$(BIN)/python benchmarks/regimen_heldout.py
	$(BIN)/python benchmarks/regimen_heldout.py tests/data/prescriptions_heldout2.csv
	$(BIN)/python benchmarks/regimen_heldout.py tests/data/prescriptions_heldout3.csv

clean:  # the demo's run only (results/demo/); other runs, with their issued grading keys, are yours to remove
	rm -rf results/demo .snakemake
