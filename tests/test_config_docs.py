"""config/README.md documents every key of config/schema.yaml, and nothing the schema does not know."""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).parents[1]


def schema_keys(node, prefix=""):
    for key, value in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        if isinstance(value, dict):
            yield from schema_keys(value, path)


def test_every_schema_key_is_documented_and_every_documented_key_exists():
    schema = set(schema_keys(yaml.safe_load((REPO / "config" / "schema.yaml").read_text())))
    documented = re.findall(r"^\| `([\w.]+)` \|", (REPO / "config" / "README.md").read_text(), flags=re.M)
    assert len(documented) == len(set(documented)), "a key is documented twice"
    assert set(documented) == schema, (sorted(schema - set(documented)), sorted(set(documented) - schema))
    assert all(row.count("|") >= 4 for row in (REPO / "config" / "README.md").read_text().splitlines()
               if row.startswith("| `"))
