"""Parses a Prometheus text exposition with prometheus_client's own parser (an independent
implementation of the format). Usage: prom_parse.py FILE. Prints one line per family,
`name type samples`, and exits non-zero on a parse error."""
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
seen = set()
for family in text_string_to_metric_families(text):
    if family.name in seen:
        sys.exit(f"family {family.name} appears twice")
    seen.add(family.name)
    print(family.name, family.type, len(family.samples))
