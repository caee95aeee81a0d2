"""The README's rule graph (docs/rulegraph.svg, `make rulegraph`) shows the rules the workflow has now."""
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]


def test_rulegraph_picture_is_current():
    dot = subprocess.run([sys.executable, "-m", "snakemake", "--rulegraph"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    rules = set(re.findall(r'label = "(\w+)"', dot))
    pictured = set(re.findall(r">(\w+)</text>", (REPO / "docs" / "rulegraph.svg").read_text()))
    assert rules and rules == pictured, f"run `make rulegraph`: {sorted(rules ^ pictured)}"
