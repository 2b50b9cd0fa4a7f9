#!/usr/bin/env bash
# Resident memory of a long Λ decode: runs `accllm run` for N tokens and samples
# VmRSS every 2 s. With Λ attention the KV pages are bounded, so RSS stays flat
# once the window fills (the request keeps only its token ids: 4 bytes/token).
# usage: bench/long_decode_rss.sh MODEL_DIR TOKENS [ATTENTION]
set -euo pipefail
model=$1; tokens=$2; attention=${3:-lambda:4,64}
accllm=${ACCLLM:-build/bin/accllm}
"$accllm" run --model "$model" --prompt-ids 1 --max-tokens "$tokens" --attention "$attention" \
  --ignore-eos --ids --seed 1 > /dev/null 2> /tmp/long_decode_rss.err &
pid=$!
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || true)
  [ -n "$rss" ] && echo "t=$(( $(date +%s) - start ))s rss_kb=$rss"
  sleep 2
done
wait "$pid"
tail -1 /tmp/long_decode_rss.err
