#!/usr/bin/env python3
"""kwcc benchmark: kwcc-generated C against onnxruntime and PyTorch, measured in one run.

Run through bench/run.sh (which builds kwcc and prepares the venv). For every model: kwcc
compiles it for each vector target the machine runs (and, for the small models, the portable
target), gcc -O3 builds it (-march=native for avx512; -mavx2 -mfma only for avx2, so no AVX-512
code can sneak in); onnxruntime (PyPI, one intra-op thread, sequential, default graph
optimisations) and PyTorch (one thread) run in this process on the same model. The engines take
turns in ROUNDS bursts of runs (a slow spell of a shared host then hits all of them alike): the
times are medians over all runs of an engine (kwcc: the median of its bursts' --repeat medians);
each ratio is the median over the bursts of that burst's ratio (the engines' runs within one
burst are adjacent in time, so a slow spell that covers one engine's burst moves one ratio of
ROUNDS, not the median). Every ratio compares numbers of this one run. GFLOP/s counts 2 x (conv/fc MACs + KernelWarehouse assembly MACs) from `kwcc inspect`;
the peak is bench/peak.c's, measured here. Outputs are checked against the reference (official
fixtures) or against onnxruntime.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OFFICIAL = os.path.join(ROOT, "..", "shared", "fixtures", "official")
sys.path.insert(0, os.path.join(ROOT, "tools"))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def peak(out, build=True):
    exe = os.path.join(out, "peak")
    if build:
        sh(["gcc", "-O2", "-march=native", os.path.join(HERE, "peak.c"), "-o", exe])
    res = {}
    for line in sh([exe]).splitlines():
        k, v = line.split()
        res[k] = float(v)
    return res


def host_targets():
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    t = []
    if " avx512f" in flags:
        t.append("avx512")
    if " avx2" in flags and " fma" in flags:
        t.append("avx2")
    return t


def inspect_macs(kwcc, model):
    j = json.loads(sh([kwcc, "inspect", "--json", model]))
    tot = j["totals"]
    return tot["macs_conv"], tot["macs_assembly"], j


def kwcc_build(kwcc, model, target, out, name, profile=False):
    c = os.path.join(out, "%s_%s.c" % (name, target))
    exe = c[:-2]
    sh([kwcc, model, "-o", c, "--name", "m", "--target", target])
    flags = {"avx512": ["-march=native"], "avx2": ["-mavx2", "-mfma"], "generic": ["-march=native"]}[target]
    defs = ["-DKWCC_MAIN"] + (["-DKWCC_PROFILE"] if profile else [])
    sh(["gcc", "-O3", *flags, *defs, "-I", out, c, "-o", exe, "-lm"])
    return exe


def kwcc_run(exe, inp, repeat, profile=False):
    """One burst of `repeat` runs: the program's median (ms), its output, its text."""
    outbin = exe + "_out.bin"
    text = sh([exe, inp, outbin, "--repeat", str(repeat)] + (["--profile"] if profile else []))
    med = float(re.search(r"median ([0-9.]+) us", text).group(1)) / 1000.0
    return med, np.fromfile(outbin, dtype="<f4"), text


def ort_session(model, x):
    """A run function for onnxruntime (one thread, sequential), its output and version."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    i = s.get_inputs()[0]
    feed = {i.name: x.reshape(i.shape)}
    y = s.run(None, feed)[0]
    for _ in range(2):
        s.run(None, feed)
    return (lambda: s.run(None, feed)), y.ravel(), ort.__version__


def torch_session(name, x):
    """A run function for PyTorch (one thread), or None where the model has no PyTorch twin."""
    try:
        import torch
        import gen_bench_models
    except Exception:
        return None
    net = gen_bench_models.build(name.replace("resnet18_kw1x_224", "resnet18_kw1x_224_twin")
                                 if name == "resnet18_kw1x_224" else name)
    if net is None:
        return None
    torch.set_num_threads(1)
    t = torch.from_numpy(x.copy()).reshape(1, 3, 224, 224) if x.size == 3 * 224 * 224 else None
    if t is None:
        return None

    def run():
        with torch.no_grad():
            net(t)
    for _ in range(2):
        run()
    return run


def timed(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000.0)
    return ts


def models(out, only):
    found = []
    for name, res in [("resnet18_kw1x_224", 224), ("resnet18_kw1d4x_64", 64), ("mobilenetv2_050_kw1x_64", 64),
                      ("mobilenetv2_050_kw1d2x_64", 64), ("mobilenetv2_050_baseline_64", 64)]:
        p = os.path.join(OFFICIAL, name + ".onnx")
        if os.path.exists(p):
            found.append((name, p, os.path.join(OFFICIAL, name + "_input.bin"),
                          os.path.join(OFFICIAL, name + "_output.bin"), "official"))
    gen = os.path.join(out, "models")
    for name in ["resnet18_baseline_224", "mobilenetv2_100_baseline_224", "resnet18_kw1x_224_twin"]:
        p = os.path.join(gen, name + ".onnx")
        if os.path.exists(p):
            if name == "resnet18_kw1x_224_twin" and any(f[0] == "resnet18_kw1x_224" for f in found):
                continue
            inp = os.path.join(gen, name + "_input.bin")
            np.random.default_rng(7).standard_normal((1, 3, 224, 224), dtype=np.float32).tofile(inp)
            found.append((name, p, inp, None, "generated"))
    if only:
        found = [f for f in found if f[0] in only]
    return found


ROUNDS = 5  # bursts per engine and model, interleaved


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kwcc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--models", default="")
    a = ap.parse_args()
    only = set(filter(None, a.models.split(",")))
    pk = peak(a.out)
    pk_seen = [pk]  # every peak measurement of the run: the model table takes the best of them
    targets = host_targets()
    print("machine: %s, %d logical CPUs; one thread everywhere" % (cpu_name(), os.cpu_count()))
    print("FMA peak (bench/peak.c): " + ", ".join("%s %.0f GFLOP/s" % kv for kv in pk.items()))
    rows, layer_rows = [], []
    ortv = "?"
    for name, model, inp, ref, kind in models(a.out, only):
        x = np.fromfile(inp, dtype="<f4")
        big = x.size > 100000
        rep = (9 if a.quick else 25) if big else (30 if a.quick else 200)
        conv, asm, insp = inspect_macs(a.kwcc, model)
        flop = 2.0 * (conv + asm)
        row = {"model": name, "kind": kind, "gmac": (conv + asm) / 1e9}
        # every engine runs in ROUNDS bursts, taken in turn, so that a slow spell of this shared
        # host hits all of them alike: medians over all runs (kwcc: of its bursts' medians)
        ort_run, o_y, ortv = ort_session(model, x)
        refy = np.fromfile(ref, dtype="<f4") if ref else o_y
        kt = targets + ([] if big else ["generic"])
        exes = {t: kwcc_build(a.kwcc, model, t, a.out, name) for t in kt}
        torch_run = torch_session(name, x) if big else None
        per = max(1, rep // ROUNDS)
        o_ts, t_ts, k_ms, o_b, t_b = [], [], {t: [] for t in kt}, [], []
        for _ in range(ROUNDS):
            o_ts += timed(ort_run, per)
            o_b.append(statistics.median(o_ts[-per:]))
            for t in kt:
                ms, y, _ = kwcc_run(exes[t], inp, per)
                k_ms[t].append(ms)
                row[t + "_err"] = float(np.abs(y - refy).max() / max(np.abs(refy).max(), 1e-30))
            if torch_run:
                t_ts += timed(torch_run, per)
                t_b.append(statistics.median(t_ts[-per:]))
        o_ms = statistics.median(o_ts)
        row["ort"] = o_ms
        for t in kt:
            row[t] = statistics.median(k_ms[t])
            # paired: onnxruntime's burst against kwcc's burst right after it
            row["r_ort_" + t] = statistics.median(o / k for o, k in zip(o_b, k_ms[t]))
        tt = statistics.median(t_ts) if t_ts else None
        row["torch"] = tt
        if t_b and targets:
            row["r_torch"] = statistics.median(tb / k for tb, k in zip(t_b, k_ms[targets[0]]))
        best = min(row[t] for t in targets) if targets else None
        row["gflops"] = flop / (best * 1e-3) / 1e9 if best else None
        rows.append(row)
        print("%-30s kwcc %s | ort %.2f ms%s" % (name, ", ".join("%s %.2f ms (rel err %.1e)" % (t, row[t], row[t + "_err"])
                                                                    for t in targets + ([] if big else ["generic"])),
                                               o_ms, (" | torch %.2f ms" % tt) if tt else ""))
        if targets:
            print("%-30s bursts: kwcc %s ms | ort %s ms" % ("", " ".join("%.2f" % v for v in k_ms[targets[0]]),
                                                           " ".join("%.2f" % v for v in o_b)))
        sys.stdout.flush()
        if name.startswith("resnet18_kw1x_224") and targets:
            # the per-node profile in ROUNDS bursts, each right after a fresh peak measurement:
            # a layer's share of the peak is taken against the peak of its own burst (the host's
            # speed drifts), then the median over the bursts
            pexe = kwcc_build(a.kwcc, model, targets[0], a.out, name + "_prof", profile=True)
            big_layers = [L for L in insp["layers"] if L["kind"] == "KW conv" and L["macs_conv"] >= 100e6]
            l_ms, l_g, l_pct = ({L["name"]: [] for L in big_layers} for _ in range(3))
            for _ in range(ROUNDS):
                pk_all = peak(a.out, build=False)
                pk_seen.append(pk_all)
                pk_now = pk_all[targets[0]]
                _, _, text = kwcc_run(pexe, inp, 3 if a.quick else 7, profile=True)
                prof = {}
                for line in text.splitlines():
                    m = re.match(r"profile +([0-9.]+) us  (.*) \((\w+)\)$", line)
                    if m:
                        prof[m.group(2)] = float(m.group(1))
                for L in big_layers:
                    if L["name"] in prof:
                        us = prof[L["name"]]
                        g = 2.0 * (L["macs_conv"] + L["macs_assembly"]) / (us * 1e-6) / 1e9
                        l_ms[L["name"]].append(us / 1000.0)
                        l_g[L["name"]].append(g)
                        l_pct[L["name"]].append(100.0 * g / pk_now)
            for L in big_layers:
                if l_ms[L["name"]]:
                    layer_rows.append((L["name"], L["macs_conv"] / 1e6, L["macs_assembly"] / 1e6,
                                       statistics.median(l_ms[L["name"]]), statistics.median(l_g[L["name"]]),
                                       statistics.median(l_pct[L["name"]])))
    # the peak of the model table: the best of every measurement in the run (a slow spell of the
    # host over one measurement would otherwise put the models above 100%)
    pk_seen.append(peak(a.out, build=False))
    pk = {k: max(p.get(k, 0.0) for p in pk_seen) for k in pk}
    print("FMA peak, best of the %d measurements of this run: %s" % (
        len(pk_seen), ", ".join("%s %.0f GFLOP/s" % kv for kv in pk.items())))
    for r in rows:
        r["peak"] = pk.get(targets[0]) if targets else None
    # the table
    lines = []
    hdr = "| model | GMAC | " + " | ".join("kwcc %s ms" % t for t in targets) + \
          " | onnxruntime ms | PyTorch ms | ORT / kwcc | " + " | ".join("ORT / kwcc-%s" % t for t in targets[1:]) + \
          (" | " if len(targets) > 1 else "") + "PyTorch / kwcc | GFLOP/s | % of peak |"
    lines.append(hdr)
    lines.append("|" + "---|" * (hdr.count("|") - 1))
    for r in rows:
        t0 = targets[0] if targets else None
        cells = ["%s" % r["model"], "%.2f" % r["gmac"]] + ["%.2f" % r[t] for t in targets]
        cells += ["%.2f" % r["ort"], "%.1f" % r["torch"] if r["torch"] else "-"]
        cells += ["%.2fx" % r["r_ort_" + t0] if t0 else "-"]
        cells += ["%.2fx" % r["r_ort_" + t] for t in targets[1:]]
        cells += ["%.2fx" % r["r_torch"] if r.get("r_torch") else "-"]
        cells += ["%.0f" % r["gflops"] if r["gflops"] else "-", "%.0f%%" % (100 * r["gflops"] / r["peak"]) if r["gflops"] else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print()
    print(table)
    ltable = ""
    if layer_rows:
        ll = ["| layer (resnet18_kw1x_224, %s) | conv MMAC | assembly MMAC | ms | GFLOP/s | %% of its burst's peak |" % targets[0],
              "|---|---|---|---|---|---|"]
        for r in layer_rows:
            ll.append("| %s | %.1f | %.1f | %.2f | %.0f | %.0f%% |" % r)
        ltable = "\n".join(ll)
        print()
        print(ltable)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("Machine: %s, one thread. FMA peak: %s. onnxruntime %s. Medians.\n\n" % (
            cpu_name(), ", ".join("%s %.0f GFLOP/s" % kv for kv in pk.items()), ortv))
        f.write(table + "\n\n" + ltable + "\n")
    print("\nwritten to %s" % os.path.join(a.out, "results.md"))


if __name__ == "__main__":
    main()
