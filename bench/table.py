"""The referee's table, from bench/run.sh's results (one JSON object a line):
printed, and written into README.md between its bench-table markers.

    python bench/table.py RESULTS.jsonl LOAD WRITE_README(0|1)

Wall times per image: for Faceless, the workload's images REPS times over
in one batch, up to the thread count at a time (throughput over a stream);
for facenet-pytorch, the median of REPS passes, one image after another,
each spread over the threads by torch. CPU times are user + system of the whole
process per image. "Network" is the CPU time ONNX Runtime itself spent in
our networks (faceless::runtime::network_time) during the same analyze
passes: the limit, were everything else free. Overhead = analyze CPU time
over network CPU time, minus 1 (CPU time: other load on the machine does
not distort it). Each configuration ran in several rounds (bench/run.sh
--rounds); every row is its median round.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import cpu  # noqa: E402  (the repository root, above this script)

BEGIN = "<!-- bench-table:begin (make bench) -->"
END = "<!-- bench-table:end -->"


def cpu_name():
    """The CPU's model name and its int8 dot-product instructions, as Linux reports them."""
    name = cpu.field("model name")
    if not name:
        return "CPU not reported"
    have = cpu.flags()
    int8 = [label for flag, label in cpu.INT8_DOT_PRODUCT if flag in have]
    return name + (f" with {', '.join(int8)}" if int8 else " without int8 dot-product instructions")


def median_rounds(rows):
    """(set, mode, threads) -> its measurement in the median round by wall time per image, so
    that every figure of a row (wall, CPU, network, memory) comes from one and the same run."""
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["mode"], r.get("threads")), []).append(r)
    return {k: sorted(v, key=lambda r: r["ms_per_image"])[(len(v) - 1) // 2] for k, v in groups.items()}


def main():
    path, load, write = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    rows = [json.loads(l) for l in open(path) if l.strip()]
    get = median_rounds([r for r in rows if r["set"] not in ("cli", "flat")])
    sets = [s for s in ("photos", "1080p", "4k") if (s, "analyze", 1) in get]
    n_images = get[("photos", "analyze", 1)]["images"] if "photos" in sets else 0
    names = {"photos": f"photo set ({n_images} images)", "1080p": "1920×1080 photo", "4k": "3840×2160 photo"}

    # every (workload, threads) with its detect, analyze and facenet-pytorch rows
    configs = [(s, t, get[(s, "detect", t)], get[(s, "analyze", t)], get[(s, "facenet-pytorch", t)])
               for s in sets for t in (1, 2)]
    out = []
    out.append("| workload | threads | faces per image | Faceless detect | Faceless analyze | Faceless analyze, fast "
               "classifier | facenet-pytorch detection | facenet ÷ analyze (fast) | facenet ÷ detect |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for s, t, d, a, p in configs:
        f = get.get((s, "analyze-fast", t))
        per = lambda r: f"{r['ms_per_image']:.1f} ms ({r['pass_ms'] / max(a['faces'], 1):.1f}/face)" if r else "-"
        fast = f" ({p['ms_per_image'] / f['ms_per_image']:.2f}×)" if f else ""
        out.append(f"| {names[s]} | {t} | {a['faces'] // a['images']} | {per(d)} | {per(a)} | {per(f)} | {per(p)} "
                   f"| {p['ms_per_image'] / a['ms_per_image']:.2f}×{fast} | {p['ms_per_image'] / d['ms_per_image']:.2f}× |")
    out.append("")
    out.append("| workload | threads | CPU ms/image: detect, analyze, facenet | network alone (analyze) | our overhead: "
               "detect, analyze | peak RSS MiB: detect, analyze, facenet |")
    out.append("|---|---|---|---|---|---|")
    for s, t, d, a, p in configs:
        ov = lambda r: f"{100 * (r['cpu_ms_per_image'] / r['network_cpu_ms_per_image'] - 1):+.1f} %"
        out.append(f"| {names[s]} | {t} | {d['cpu_ms_per_image']:.0f}, {a['cpu_ms_per_image']:.0f}, "
                   f"{p['cpu_ms_per_image']:.0f} | {a['network_cpu_ms_per_image']:.0f} ms CPU "
                   f"({a['network_cpu_ms_per_image'] / t:.0f} ms wall on {t} core{'s' if t > 1 else ''}) "
                   f"| {ov(d)}, {ov(a)} | {d['peak_rss_mib']:.0f}, {a['peak_rss_mib']:.0f}, {p['peak_rss_mib']:.0f} |")
    out.append("")
    notes = []
    if "photos" in sets:
        sc = lambda m: get[("photos", m, 1)]["ms_per_image"] / get[("photos", m, 2)]["ms_per_image"]
        fast = f", analyze with the fast classifier {sc('analyze-fast'):.2f}×" if ("photos", "analyze-fast", 1) in get else ""
        notes.append(f"2 threads against 1 on the photo set, throughput: detect {sc('detect'):.2f}×, "
                     f"analyze {sc('analyze'):.2f}×{fast}, facenet-pytorch {sc('facenet-pytorch'):.2f}×.")
    if "1080p" in sets and "4k" in sets:
        r = lambda m, t: get[("4k", m, t)]["ms_per_image"] / get[("1080p", m, t)]["ms_per_image"]
        notes.append("4K over 1080p time (4× the pixels): analyze "
                     f"{r('analyze', 1):.2f}× at 1 thread, {r('analyze', 2):.2f}× at 2; facenet-pytorch "
                     f"{r('facenet-pytorch', 1):.2f}× and {r('facenet-pytorch', 2):.2f}×.")
    cli = {(r["mode"], r["image"]): r["peak_rss_mib"] for r in rows if r["set"] == "cli"}
    if cli:
        notes.append("Peak RSS of the CLI on one photo, all cores, start-up included: "
                     f"`faceless analyze` {cli.get(('analyze', 'photo_1080p'))} MiB at 1920×1080, "
                     f"{cli.get(('analyze', 'photo_4k'))} MiB at 3840×2160 (`--classifier fast`: "
                     f"{cli.get(('analyze-fast', 'photo_1080p'))} and {cli.get(('analyze-fast', 'photo_4k'))} MiB); "
                     "`faceless detect` "
                     f"{cli.get(('detect', 'photo_1080p'))} and {cli.get(('detect', 'photo_4k'))} MiB.")
    for r in rows:
        if r["set"] == "flat":
            notes.append(f"{r['images']} images (the set at 3 sizes, cycled) through one pipeline at "
                         f"{r['threads']} threads: a cycle's highest RSS is {r['rss_first_half_mib']:.0f} MiB in the "
                         f"first half (median; first cycle left out), {r['rss_second_half_mib']:.0f} MiB in the second "
                         f"({r['growth_mib']:+.1f} MiB); the highest cycle {r['highest_first_half_mib']:.0f} MiB in "
                         f"the first half, {r['highest_second_half_mib']:.0f} MiB in the second; per cycle between "
                         f"{min(r['cycles_mib'][1:])} and {max(r['cycles_mib'][1:])} MiB; {r['failed']} failed.")
    notes.append(f"CPU: {cpu_name()}, {os.cpu_count()} cores.")
    notes.append(f"Load average during the run: {load} (this machine is shared; wall times at 2 threads "
                 "need the two cores free, CPU times and ratios within one run are the steadier figures).")
    text = "\n".join(out) + "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(text)
    if write:
        readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
        body = open(readme, encoding="utf-8").read()
        if BEGIN not in body or END not in body:
            sys.exit(f"README.md has no {BEGIN} ... {END} block to write")
        body = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{text}{END}", body,
                      flags=re.S)
        open(readme, "w", encoding="utf-8").write(body)
        print("README.md: speed table rewritten", file=sys.stderr)


if __name__ == "__main__":
    main()
