#!/usr/bin/env bash
# For machines that cannot pull from container registries (air-gapped builds): makes a local base image with a
# JDK 17 from Debian packages (debootstrap, root), laid out as the Temurin images the Dockerfiles use
# (java under /opt/java/openjdk, useradd present). Use it for both base images:
#   tools/container/base-from-debian.sh
#   tools/container/build.sh cpu --build-arg JDK_IMAGE=localhost/dit-fn-base:debian-jdk17 \
#     --build-arg JRE_IMAGE=localhost/dit-fn-base:debian-jdk17
set -euo pipefail
engine=${ENGINE:-podman}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=openjdk-17-jdk-headless bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$root/opt/java"
ln -s "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" "$root/opt/java/openjdk"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$engine" import \
  --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV JAVA_HOME=/opt/java/openjdk' - localhost/dit-fn-base:debian-jdk17
