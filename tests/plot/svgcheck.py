#!/usr/bin/env python3
"""svgcheck.py SVG JSONL - a plot from dfudecode --plot against the same
input's dfudecode --json:
  - the SVG parses (xml.etree) and its root is an svg element;
  - each image polyline's x never goes back;
  - every anomaly of the JSON summary is one mark with its dotted id, and
    the title names the outcome and the diagnosis id.
Prints one line per problem; exit 1 when there is one."""
import collections
import json
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def main(svg_path, jsonl_path):
    bad = []
    try:
        root = ET.parse(svg_path).getroot()
    except ET.ParseError as e:
        print(f"{svg_path}: not well-formed: {e}")
        return 1
    if root.tag != NS + "svg":
        bad.append(f"root element is {root.tag}")
    summary = None
    with open(jsonl_path) as f:
        for line in f:
            o = json.loads(line)
            if o.get("event") == "summary":
                summary = o
    if summary is None:
        bad.append("no summary in the JSON")
        summary = {"anomaly_counts": {}, "outcome": "?", "diagnosis": None}
    lines = 0
    for el in root.iter(NS + "polyline"):
        if el.get("class") != "image":
            continue
        lines += 1
        xs = [float(p.split(",")[0]) for p in el.get("points").split()]
        if any(b < a - 1e-9 for a, b in zip(xs, xs[1:])):
            bad.append(f"image {el.get('data-image')}: the line goes back in x")
    if lines == 0 and summary.get("bytes_data", 0) > 0:
        bad.append("no image line")
    marks = collections.Counter(
        el.get("data-id") for el in root.iter(NS + "path")
        if (el.get("class") or "").startswith("anomaly "))
    want = collections.Counter(summary.get("anomaly_counts") or {})
    if marks != want:
        bad.append(f"anomaly marks {dict(marks)} != summary {dict(want)}")
    title = "".join(next((el.itertext() for el in root.iter(NS + "text")
                          if el.get("class") == "title"), []))
    diag = (summary.get("diagnosis") or {}).get("id", "")
    if f": {summary['outcome']} ({diag})" not in title:
        bad.append(f"title '{title}' lacks the outcome {summary['outcome']} ({diag})")
    for b in bad:
        print(f"{svg_path}: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
