#!/usr/bin/env bash
# Builds the container image of one target: packages the application (with the matching ONNX Runtime build) and
# builds src/main/docker/Dockerfile.<target> as dit-fn:<target>.
#   tools/container/build.sh cpu|gpu|ascend [extra build options, e.g. --build-arg ORT_CANN_JAR=ort/ort-cann.jar]
# ENGINE picks the container engine (podman by default, docker works the same).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: build.sh cpu|gpu|ascend [build options]}
shift
engine=${ENGINE:-podman}
case "$target" in
  cpu) dockerfile=Dockerfile.jvm; profile=() ;;
  gpu) dockerfile=Dockerfile.cuda; profile=(-Pcuda) ;;
  ascend) dockerfile=Dockerfile.ascend; profile=() ;;
  *) echo "unknown target $target (cpu, gpu or ascend)" >&2; exit 2 ;;
esac
./mvnw -B -q -DskipTests package "${profile[@]}"
"$engine" build -f "src/main/docker/$dockerfile" -t "dit-fn:$target" "$@" .
