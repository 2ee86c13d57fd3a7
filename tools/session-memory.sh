#!/usr/bin/env bash
# Anonymous RSS of a running server as requests go through every step-cache backend and several DBCache splits:
# with one copy of every weight it must not grow with the settings used. Prints one line per request.
#
#   tools/session-memory.sh [JAR] [MODEL_DIR] [PORT]
# JAR defaults to target/quarkus-app/quarkus-run.jar; MODEL_DIR to target/bench-models/bench (written if absent).
# The Java heap is fixed and pre-touched (JAVA_OPTS overrides), so what grows is native memory: weights and ORT's
# buffers. The settings run twice: the second round shows what stays once every path has run.
set -euo pipefail
jar=${1:-target/quarkus-app/quarkus-run.jar}
model=${2:-target/bench-models/bench}
port=${3:-18080}
[ -f "$model/model_index.json" ] || java -jar "$jar" write-model --preset bench "$model" >/dev/null

DIT_MODEL_PATH=$model QUARKUS_HTTP_PORT=$port DIT_CACHE_EXTRA_SPLITS=F8B0,F4B0,F2B2,F1B4 \
  java ${JAVA_OPTS:--Xms768m -Xmx768m -XX:+AlwaysPreTouch} -jar "$jar" >/tmp/session-memory.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 300); do
  curl -sf "localhost:$port/q/health/ready" >/dev/null && break
  sleep 1
done
curl -sf "localhost:$port/q/health/ready" >/dev/null || { echo "server not ready"; tail -20 /tmp/session-memory.log; exit 1; }

rss() { awk '/RssAnon/ {print $2}' "/proc/$pid/status"; }
echo "ready: RssAnon $(( $(rss) / 1024 )) MiB"
base=""
for round in 1 2; do
for cache in '{"backend":"none"}' '{"backend":"tea_cache"}' '{"backend":"cache_dit"}' \
    '{"backend":"cache_dit","Fn_compute_blocks":8}' '{"backend":"cache_dit","Fn_compute_blocks":4}' \
    '{"backend":"cache_dit","Fn_compute_blocks":2,"Bn_compute_blocks":2}' \
    '{"backend":"cache_dit","Fn_compute_blocks":1,"Bn_compute_blocks":4}'; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/generate" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"a red fox\",\"size\":\"256x256\",\"num_inference_steps\":8,\"seed\":1,\"negative_prompt\":\" \",\"true_cfg_scale\":4,\"cache\":$cache}")
  now=$(rss)
  [ -z "$base" ] && base=$now
  printf 'round %d %-70s HTTP %s  RssAnon %5d MiB  (+%d MiB since the first uncached request)\n' "$round" "$cache" "$code" $((now / 1024)) $(((now - base) / 1024))
done
done
curl -s "localhost:$port/q/health/ready" | grep -o '"sessions"[^,]*\|"transformer_segments"[^,]*' || true
