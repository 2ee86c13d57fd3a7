#!/usr/bin/env bash
# SIGTERM while a generation runs, as Kubernetes and Knative stop pods: the request must finish with 200, a request
# arriving during the drain must get 503, and the process must exit 0. Prints what happened; exits non-zero if any
# of the three did not hold.
#
#   tools/sigterm-drain.sh [JAR] [PORT]
set -uo pipefail
jar=${1:-target/quarkus-app/quarkus-run.jar}
port=${2:-18090}
log=$(mktemp)
QUARKUS_HTTP_PORT=$port DIT_MODEL_CACHE_DIR=${DIT_MODEL_CACHE_DIR:-/tmp/dit-fn-drain-cache} java -jar "$jar" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  curl -sf "localhost:$port/q/health/ready" >/dev/null && break
  sleep 0.5
done
# a request of several seconds on the embedded model
curl -s -o /tmp/drain-long.json -w '%{http_code}' "localhost:$port/generate" -H 'Content-Type: application/json' \
  -d '{"prompt":"a long one","size":"1024x1024","num_inference_steps":200,"n":2,"seed":1}' >/tmp/drain-long.code &
client=$!
sleep 3
kill -TERM $pid
sleep 0.5
late=$(curl -s -o /tmp/drain-late.json -w '%{http_code}' "localhost:$port/generate" -H 'Content-Type: application/json' \
  -d '{"prompt":"too late","size":"32x32","num_inference_steps":2}')
ready=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$port/q/health/ready")
wait $client
wait $pid
exit_code=$?
long=$(cat /tmp/drain-long.code)
echo "in-flight request: HTTP $long ($(head -c 80 /tmp/drain-long.json | tr -d '\n')...)"
echo "request during the drain: HTTP $late $(head -c 160 /tmp/drain-late.json)"
echo "readiness during the drain: HTTP $ready"
echo "process exit code: $exit_code"
grep -E "drain|SIGSEGV|fatal|generate " "$log" | head -8
[ "$long" = 200 ] && [ "$late" = 503 ] && [ "$exit_code" = 0 ]
