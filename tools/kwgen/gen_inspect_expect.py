#!/usr/bin/python3
"""Writes tests/fixtures/kw/<case>/inspect.expect from tests/fixtures/kw/manifest.json.

The manifest is written by gen_kw_fixtures.py from the PyTorch modules (tools/kwgen/kw.py), so
these expectations come from the generator, not from kwcc. One line per KW layer, in graph
order:  <onnx conv node> <warehouse (order of first use in the graph)> <n> <m> <co>x<ci>x<|ck|>
tests/inspect_check.sh compares them with `kwcc inspect --json`.
"""
import json
import math
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "tests", "fixtures", "kw")
man = json.load(open(os.path.join(root, "manifest.json")))
for case in man["cases"]:
    whs = {w["id"]: w for w in case["warehouses"]}
    lines = []
    for layer in case["kw_layers"]:
        w = whs[layer["warehouse_id"]]
        n, co, ci = w["shape"][0], w["shape"][1], w["shape"][2]
        ck = math.prod(w["shape"][3:])
        lines.append("%s %d %d %d %dx%dx%d" % (layer["onnx_conv"], w["graph_order"], n, layer["m"], co, ci, ck))
    with open(os.path.join(root, case["case"], "inspect.expect"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(case["case"], len(lines), "KW layers")
