#!/usr/bin/env python3
"""Cold start of the packaged application, as a scaled-from-zero pod sees it.

For each model (the embedded tiny preset, as baked into the cpu image, and the bench preset) and each JVM variant
(plain, and with an AppCDS archive when --appcds), starts `java -jar target/quarkus-app/quarkus-run.jar` the way the
images do (ORT natives pre-extracted, onnxruntime.native.path set, QUARKUS_PROFILE=cpu, intra-op threads = cores,
the model's pages dropped from the page cache first), and times from process start to readiness UP
(/q/health/ready, polled every 10 ms; its load_ms says when the background model load began) and to the first image
(POST /generate, 256x256, 20 steps). Runs are interleaved; medians are reported. Then, in fresh JVMs, the finer
split of the model load (ColdStartBreakdown: ORT init, weight mapping, graph build, serialisation, session
creation, warm-up), and the floor: reading the weight files once, from disk (page cache dropped) and from memory.

  ./mvnw -B -DskipTests package && python3 tools/coldstart.py [--runs 5] [--appcds]

Writes target/coldstart/report.md and results.json. Python 3 standard library only.
"""
import argparse
import glob
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "target", "quarkus-app")
WORK = os.path.join(ROOT, "target", "coldstart")
REQUEST = {"prompt": "a red fox in the snow", "size": "256x256", "num_inference_steps": 20, "seed": 1}


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def natives():
    """ORT's natives for this machine, extracted once as the images do at build time."""
    arch = {"x86_64": "x64", "aarch64": "aarch64"}[platform.machine()]
    out = os.path.join(WORK, "native")
    if not os.path.isdir(out):
        jar = glob.glob(os.path.join(APP, "lib", "main", "com.microsoft.onnxruntime.onnxruntime*.jar"))[0]
        prefix = "ai/onnxruntime/native/linux-%s/" % arch
        os.makedirs(out)
        with zipfile.ZipFile(jar) as z:
            for name in z.namelist():
                if name.startswith(prefix) and not name.endswith("/"):
                    with open(os.path.join(out, os.path.basename(name)), "wb") as f:
                        f.write(z.read(name))
    return out


def model(preset):
    path = os.path.join(WORK, "models", preset)
    if not os.path.exists(os.path.join(path, "model_index.json")):
        sh("java", "-jar", os.path.join(APP, "quarkus-run.jar"), "write-model", "--preset", preset, path,
           stdout=subprocess.DEVNULL)
    return path


def weight_files(path):
    return sorted(glob.glob(os.path.join(path, "**", "*.safetensors"), recursive=True))


def drop_cache(path):
    """Evicts the model's files from the page cache (only those: other processes keep theirs)."""
    for f in glob.glob(os.path.join(path, "**", "*"), recursive=True):
        if os.path.isfile(f):
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def read_once(files):
    start = time.monotonic()
    for f in files:
        with open(f, "rb", buffering=0) as h:
            while h.read(16 << 20):
                pass
    return time.monotonic() - start


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, json.load(r)


def start_once(model_dir, port, jvm_opts, log_path):
    env = dict(os.environ, QUARKUS_PROFILE="cpu", QUARKUS_HTTP_PORT=str(port), DIT_MODEL_PATH=model_dir,
               DIT_THREADS_INTRA_OP=str(os.cpu_count()))
    cmd = ["java"] + jvm_opts + ["-Donnxruntime.native.path=" + natives(), "-jar",
                                 os.path.join(APP, "quarkus-run.jar")]
    drop_cache(model_dir)
    log = open(log_path, "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    r = {}
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the application exited (%d); see %s" % (proc.returncode, log_path))
            try:
                status, body = get("http://127.0.0.1:%d/q/health/ready" % port)
            except urllib.error.HTTPError as e:
                status, body = e.code, json.load(e)
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.01)
                continue
            now = time.monotonic() - t0
            data = body["checks"][0].get("data", {})
            if body["status"] == "UP":
                r["ready_s"] = now
                r["load_ms"] = data["load_ms"]
                break
            if data.get("state") == "failed":
                raise RuntimeError("model load failed: %s" % data)
            time.sleep(0.01)
        req = urllib.request.Request("http://127.0.0.1:%d/generate" % port, data=json.dumps(REQUEST).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            answer = json.load(resp)
        r["first_image_s"] = time.monotonic() - t0
        r["first_image_total_ms"] = answer["timings_ms"]["total"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    return r


def breakdown(model_dir, runs):
    """ColdStartBreakdown once per fresh JVM (through Maven, which keeps the class path short for ORT)."""
    out = os.path.join(ROOT, "target", "measurements", "coldstart-breakdown.jsonl")
    if os.path.exists(out):
        os.remove(out)
    for _ in range(runs):
        drop_cache(model_dir)
        sh("./mvnw", "-B", "-q", "test", "-Dgroups=measure", "-Dsurefire.excludedGroups=none",
           "-Dtest=ColdStartBreakdown", "-Dcoldstart.model=" + model_dir,
           "-Dtest.jvm.args=-Xmx2g -Donnxruntime.native.path=" + natives(), stdout=subprocess.DEVNULL)
    rows = [json.loads(line) for line in open(out)]
    keys = [k for k in rows[0] if k != "model"]
    return {k: statistics.median(r[k] for r in rows) for k in keys}


def appcds_archive(model_dir, port):
    """A dynamic AppCDS archive recorded over a whole start, model load and first image (JDK 13+)."""
    archive = os.path.join(WORK, "app-cds.jsa")
    if not os.path.exists(archive):
        start_once(model_dir, port, ["-XX:ArchiveClassesAtExit=" + archive], os.path.join(WORK, "appcds-train.log"))
    return ["-XX:SharedArchiveFile=" + archive]


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--presets", default="tiny,bench")
    ap.add_argument("--appcds", action="store_true", help="also measure with an AppCDS archive")
    ap.add_argument("--port", type=int, default=18090)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    presets = args.presets.split(",")
    models = {p: model(p) for p in presets}
    variants = {"plain": []}
    if args.appcds:
        variants["appcds"] = appcds_archive(models[presets[0]], args.port)
    results = {p: {v: [] for v in variants} for p in presets}
    for i in range(args.runs):
        for p in presets:
            for v, opts in variants.items():
                r = start_once(models[p], args.port, opts, os.path.join(WORK, "%s-%s-%d.log" % (p, v, i)))
                results[p][v].append(r)
                print("%s %s run %d: ready %.2f s, first image %.2f s" % (p, v, i + 1, r["ready_s"],
                                                                             r["first_image_s"]), flush=True)
    split = {p: breakdown(models[p], args.runs) for p in presets}
    floor = {}
    for p in presets:
        files = weight_files(models[p])
        cold, warm = [], []
        for _ in range(args.runs):
            drop_cache(models[p])
            cold.append(read_once(files))
            warm.append(read_once(files))
        floor[p] = {"bytes": sum(os.path.getsize(f) for f in files), "cold_s": statistics.median(cold),
                    "warm_s": statistics.median(warm)}
    json.dump({"results": results, "breakdown": split, "floor": floor}, open(os.path.join(WORK, "results.json"), "w"),
              indent=1)
    report = render(results, split, floor, args.runs)
    open(os.path.join(WORK, "report.md"), "w").write(report)
    print(report)


def render(results, split, floor, runs):
    load = os.getloadavg()
    lines = ["Machine: %d CPUs (%s), load average %.1f / %.1f / %.1f at the end; Java %s. Median of %d runs, "
             "seconds from process start." % (os.cpu_count(), platform.machine(), load[0], load[1], load[2],
                                              java_version(), runs), "",
             "| model | JVM | boot: process start to model load start | model load | readiness UP | first image "
             "| first request alone |", "|---|---|---|---|---|---|---|"]
    for p, variants in results.items():
        for v, rows in variants.items():
            boot = [r["ready_s"] - r["load_ms"] / 1000 for r in rows]
            lines.append("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
                p, v, statistics.median(boot), med(rows, "load_ms") / 1000, med(rows, "ready_s"),
                med(rows, "first_image_s"), statistics.median(r["first_image_s"] - r["ready_s"] for r in rows)))
    steps = [("ORT init (part of boot)", ["ort_init"]), ("open snapshot (configs, tokenizer files)", ["open_snapshot"]),
             ("weight mapping", [".map"]), ("graph build + serialisation", [".build", ".serialize"]),
             ("session creation", [".session"]), ("warm-up run", ["warm_up"])]
    lines += ["", "Where the time goes, each step once in a fresh JVM (ColdStartBreakdown, median ms; the server "
              "runs the same calls on a JVM Quarkus has already warmed):", "",
              "| step | " + " | ".join(split) + " |", "|---|" + "---|" * len(split)]
    for label, keys in steps:
        lines.append("| %s | %s |" % (label, " | ".join("%.0f" % sum(v for k, v in split[p].items()
                                                                    if any(k == x or k.endswith(x) for x in keys))
                                                        for p in split)))
    lines += ["", "Floor: reading the weight files once (median seconds):", "",
              "| model | weights | from disk (page cache dropped) | from page cache |", "|---|---|---|---|"]
    for p, f in floor.items():
        lines.append("| %s | %.1f MB | %.3f (%.0f MB/s) | %.3f |" % (p, f["bytes"] / 1e6, f["cold_s"],
                                                                    f["bytes"] / 1e6 / f["cold_s"], f["warm_s"]))
    return "\n".join(lines) + "\n"


def java_version():
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "([^"]+)"', out)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    sys.exit(main())
