"""Formatting and lint checks, part of the test command: ruff for the Python, snakefmt for the workflow."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_finds_nothing():
    out = run("ruff", "check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_snakefile_and_rules_are_snakefmt_formatted():
    out = run("snakefmt", "--check", "Snakefile", "rules/")
    assert out.returncode == 0, out.stdout + out.stderr
