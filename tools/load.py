#!/usr/bin/env python3
"""Bounded load on loopback: N clients post `generate` for T seconds against one instance, then report throughput,
latency percentiles per status, status counts and the server's RSS at start and end (and its peak).

Starts the server itself (--jar, with --max-concurrent/--max-queued) or uses a running one (--port and --pid).
Clients that get 429 wait its Retry-After before the next try, as a well-behaved client would (--no-backoff: retry
at once). Only loopback is ever contacted.

  tools/load.py --jar target/quarkus-app/quarkus-run.jar --max-concurrent 1 --max-queued 2 --clients 12 --seconds 60
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

HOST = "127.0.0.1"


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def wait_ready(port, limit=180):
    end = time.time() + limit
    while time.time() < end:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/q/health/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"the server on port {port} did not become ready within {limit} s")


def client(port, body, stop_at, backoff, results, lock):
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    while time.time() < stop_at:
        start = time.perf_counter()
        try:
            conn.request("POST", "/generate", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            status, retry = resp.status, resp.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as e:
            status, retry = f"error:{type(e).__name__}", None
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=600)
        elapsed = time.perf_counter() - start
        with lock:
            results.append((status, elapsed, time.time()))
        if status == 429 and backoff and retry:
            time.sleep(min(float(retry), max(0.0, stop_at - time.time())))
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar")
    ap.add_argument("--port", type=int, default=18091)
    ap.add_argument("--pid", type=int, help="the running server's process id, for RSS (without --jar)")
    ap.add_argument("--max-concurrent", type=int, default=1)
    ap.add_argument("--max-queued", type=int, default=2)
    ap.add_argument("--clients", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-backoff", action="store_true")
    ap.add_argument("--body", default=json.dumps({"prompt": "a harbour at dusk", "size": "256x256",
                                                   "num_inference_steps": 20, "seed": 7}))
    a = ap.parse_args()

    server = None
    if a.jar:
        env = dict(os.environ, QUARKUS_HTTP_HOST=HOST, QUARKUS_HTTP_PORT=str(a.port),
                   DIT_SERVING_MAX_CONCURRENT=str(a.max_concurrent), DIT_SERVING_MAX_QUEUED=str(a.max_queued))
        env.setdefault("DIT_MODEL_CACHE_DIR", "/tmp/dit-fn-load-cache")
        log = open("/tmp/dit-fn-load-server.log", "w")
        server = subprocess.Popen(["java", "-jar", a.jar], env=env, stdout=log, stderr=subprocess.STDOUT)
        a.pid = server.pid
    try:
        wait_ready(a.port)
        # One request first: the figures are for a warm server.
        warm = http.client.HTTPConnection(HOST, a.port, timeout=600)
        warm.request("POST", "/generate", a.body, {"Content-Type": "application/json"})
        warm.getresponse().read()
        rss = [rss_mib(a.pid)] if a.pid else []
        results, lock = [], threading.Lock()
        t0 = time.time()
        stop_at = t0 + a.seconds
        threads = [threading.Thread(target=client, args=(a.port, a.body, stop_at, not a.no_backoff, results, lock))
                   for _ in range(a.clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if a.pid:
                rss.append(rss_mib(a.pid))
        wall = time.time() - t0

        by_status = {}
        for status, elapsed, _ in results:
            by_status.setdefault(str(status), []).append(elapsed)
        ok = by_status.get("200", [])
        print(f"clients {a.clients}, {a.seconds:.0f} s, max-concurrent {a.max_concurrent}, max-queued {a.max_queued}"
              f", backoff {'off' if a.no_backoff else 'Retry-After'}; body {a.body}")
        print(f"wall {wall:.1f} s; completed (200) {len(ok)}: {len(ok) / wall:.2f} req/s")
        for status, values in sorted(by_status.items()):
            print(f"  status {status}: {len(values)}; latency s p50 {percentile(values, 50):.3f} "
                  f"p95 {percentile(values, 95):.3f} p99 {percentile(values, 99):.3f} max {max(values):.3f}")
        if rss:
            print(f"server RSS MiB: start {rss[0]:.0f}, end {rss[-1]:.0f}, peak {max(rss):.0f}; every 30 s: "
                  + " ".join(f"{v:.0f}" for v in rss[::30]))
        fivexx = sum(len(v) for s, v in by_status.items() if s.startswith("5") or s.startswith("error"))
        return 1 if fivexx else 0
    finally:
        if server:
            server.terminate()
            server.wait(timeout=120)


if __name__ == "__main__":
    sys.exit(main())
