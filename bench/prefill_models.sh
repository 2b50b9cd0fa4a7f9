#!/usr/bin/env bash
# Prefill speed of several models of one shape (e.g. dense against 2:4), run in turn ROUNDS
# times so every model sees the same machine load; prints each run and each model's median.
# usage: bench/prefill_models.sh MODEL_DIR [MODEL_DIR ...]
#   ROUNDS (5), PROMPT (512 tokens), THREADS (2), ACCLLM (build/bin/accllm)
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 MODEL_DIR [MODEL_DIR ...]" >&2; exit 2; }
accllm=${ACCLLM:-build/bin/accllm}
rounds=${ROUNDS:-5}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; ++r)); do
  for model in "$@"; do
    json=$("$accllm" bench-engine --model "$model" --threads "${THREADS:-2}" --batch 1 \
      --prompt-tokens "${PROMPT:-512}" --gen-tokens 4 --json 2>/dev/null) || {
      echo "$model: bench-engine failed" >&2; exit 1; }
    python3 -c 'import json, sys; print(sys.argv[1], json.loads(sys.argv[2])["prefill_tok_s"])' \
      "$model" "$json" | tee -a "$results"
  done
done
python3 - "$results" "$@" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
first = None
for model in sys.argv[2:]:
    median = statistics.median(float(v) for m, v in runs if m == model)
    first = first or median
    print(f"median {model}: {median:.1f} tok/s ({median / first:.3f} x the first)")
PY
