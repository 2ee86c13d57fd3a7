#!/bin/bash
# Records the application class-data-sharing archive (a JDK dynamic AppCDS archive) over a whole cold start: boot,
# the load of a generated tiny model, one generation. Starts read it with -XX:SharedArchiveFile, which cuts the JVM
# and Quarkus boot by a fifth to a quarter (docs/deploy.md "Cold start"). Run at image build time by the image's
# own java (an archive only works with the JVM and class path that wrote it, else the JVM ignores it); what the
# training run leaves in /tmp is removed.
#   appcds.sh ARCHIVE [java options]
set -euo pipefail
archive=$1
shift
app=/deployments/quarkus-app/quarkus-run.jar
port=18765
before=$(ls -A /tmp)
trap 'for f in $(ls -A /tmp); do grep -qxF "$f" <<<"$before" || rm -rf "/tmp/$f"; done' EXIT
work=$(mktemp -d)
java "$@" -jar "$app" write-model --preset tiny "$work/tiny" >/dev/null
DIT_MODEL_PATH=$work/tiny QUARKUS_HTTP_PORT=$port QUARKUS_PROFILE=cpu \
  java -XX:ArchiveClassesAtExit="$archive" -Xlog:cds*=error "$@" -jar "$app" &
pid=$!
http() { # raw HTTP/1.0 over bash's /dev/tcp: the runtime images have no curl
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%s' "$1" >&3
  cat <&3
  exec 3>&-
}
until http $'GET /q/health/ready HTTP/1.0\r\n\r\n' 2>/dev/null | grep -q '"status": "UP"'; do
  kill -0 "$pid"
  sleep 0.5
done
body='{"prompt": "a red fox in the snow", "size": "64x64", "num_inference_steps": 2, "seed": 1}'
http "$(printf 'POST /generate HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
  "${#body}" "$body")" | head -1 | grep -q ' 200 '
kill -TERM "$pid"
wait "$pid" || true
test -s "$archive"
