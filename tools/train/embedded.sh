#!/bin/bash
# Reproduces the embedded model (qwen-image-scenes-v3) from nothing, as the commands that made it ran one after the
# other: the data sets, the first round (VAE, transformer; the v2 recipe), its decoder refinement, and a second
# transformer round started from the first round's weights. About 4 hours on 2 cores.
#
# usage: tools/train/embedded.sh WORKDIR    (from the repository root, after ./mvnw -B -DskipTests package)
# The snapshot is WORKDIR/qwen-image-scenes-v3; WORKDIR/*.log hold each step's log.
set -euo pipefail
work=${1:?usage: tools/train/embedded.sh WORKDIR}
mkdir -p "$work"
java=(java -jar target/quarkus-app/quarkus-run.jar)
py=/usr/bin/python3

"${java[@]}" scenes --split train --count 30000 --size 96 --seed 0 --out "$work/train96"
"${java[@]}" scenes --split eval --count 200 --size 96 --seed 1 --out "$work/eval96"
# round 1: VAE 4000 steps (kept in vae.pt), transformer 4000 steps; its decoder is refined below instead
$py tools/train/train.py --data "$work/train96" --out "$work/round1" --eval "$work/eval96" \
    --vae-checkpoint "$work/vae.pt" --decoder-steps 0 > "$work/round1.log" 2>&1
# the decoder refinement train.py would run at the end of round 1 (same random streams), kept as a VAE state
$py tools/train/refine_decoder.py --data "$work/train96" --vae-state "$work/vae.pt" --out "$work/vae-refined.pt" \
    --steps 1000 > "$work/refine.log" 2>&1
# round 2: the transformer and text encoder again from round 1's weights, then 2500 more decoder steps
$py tools/train/train.py --data "$work/train96" --out "$work/qwen-image-scenes-v3" --eval "$work/eval96" \
    --vae-checkpoint "$work/vae-refined.pt" --dit-init "$work/round1" --dit-steps 4500 --eval-every 1500 \
    --decoder-steps 2500 > "$work/round2.log" 2>&1
echo "snapshot in $work/qwen-image-scenes-v3"
