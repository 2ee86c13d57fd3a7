#!/usr/bin/env bash
# Starts the cpu image as the cluster runs it (read-only root file system, writable /tmp only, non-root, profile
# cpu, its AppCDS archive in use) and checks that it serves: readiness UP, an image from POST /generate, and the same function answering a
# binary and a structured CloudEvent with a dev.ditfn.generate.output event.
#   tools/container/smoke.sh [image, default dit-fn:cpu]
# ENGINE picks the container engine (podman by default); RUN_OPTS adds options to its run command.
set -euo pipefail
image=${1:-dit-fn:cpu}
engine=${ENGINE:-podman}
port=${PORT:-18080}
name=dit-fn-smoke-$$
# -Xshare:on: the start fails unless the image's AppCDS archive fits its JVM.
# shellcheck disable=SC2086 # RUN_OPTS is a list of options
"$engine" run -d --name "$name" ${RUN_OPTS:-} --read-only --tmpfs /tmp -e QUARKUS_PROFILE=cpu \
  -e DIT_THREADS_INTRA_OP=2 -e JAVA_TOOL_OPTIONS=-Xshare:on -p "127.0.0.1:$port:8080" "$image" >/dev/null
trap '"$engine" logs "$name" > "${TMPDIR:-/tmp}/$name.log" 2>&1; "$engine" rm -f "$name" >/dev/null' EXIT
start=$(date +%s)
until curl -sf "localhost:$port/q/health/ready" >/dev/null; do
  if (( $(date +%s) - start > 120 )); then echo "not ready after 120 s" >&2; exit 1; fi
  sleep 0.5
done
echo "ready after $(( $(date +%s) - start )) s"
request='{"prompt": "a red fox in the snow", "size": "256x192", "num_inference_steps": 8, "seed": 1}'
check_image() { # stdin: a generate response; $1: where it came from
  python3 -c '
import base64, json, struct, sys
r = json.load(sys.stdin)
png = base64.b64decode(r["data"][0]["b64_json"])
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (256, 192), (w, h)
print(sys.argv[1] + ": %dx%d PNG, %d bytes, %s ms" % (w, h, len(png), r["timings_ms"]["total"]))' "$1"
}
curl -sf "localhost:$port/generate" -H 'Content-Type: application/json' -d "$request" | check_image "POST /generate"
headers=$(mktemp)
curl -sf -D "$headers" "localhost:$port/" -H 'Content-Type: application/json' -H 'ce-specversion: 1.0' \
  -H 'ce-id: smoke-1' -H 'ce-source: /smoke' -H 'ce-type: dev.ditfn.generate' -d "$request" \
  | check_image "binary CloudEvent"
grep -qi '^ce-type: dev.ditfn.generate.output' "$headers" || { echo "binary reply is not dev.ditfn.generate.output" >&2; exit 1; }
curl -sf "localhost:$port/" -H 'Content-Type: application/cloudevents+json' \
  -d "{\"specversion\": \"1.0\", \"id\": \"smoke-2\", \"source\": \"/smoke\", \"type\": \"dev.ditfn.generate\", \"datacontenttype\": \"application/json\", \"data\": $request}" \
  | python3 -c 'import json, sys; e = json.load(sys.stdin); assert e["type"] == "dev.ditfn.generate.output", e["type"]; json.dump(e["data"], sys.stdout)' \
  | check_image "structured CloudEvent"
rm -f "$headers"
