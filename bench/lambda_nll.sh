#!/usr/bin/env bash
# NLL of a model under dense, window:W and lambda:4,W attention (issue 5's table):
# 8 sampled streams within the trained context, then one long concatenated stream.
# usage: bench/lambda_nll.sh MODEL_DIR [CONTEXT_LENGTH] [LONG_LENGTH]
set -euo pipefail
model=$1; ctx=${2:-512}; long=${3:-4096}
accllm=${ACCLLM:-build/bin/accllm}
printf '%-14s %-8s %-10s %-10s %-8s %s\n' attention stream nll_model kl_mean pages nll_by_segment
for stream in "--streams 8 --length $ctx" "--stream-length $long"; do
  for att in dense window:64 lambda:4,64 window:128 lambda:4,128 window:256 lambda:4,256; do
    json=$($accllm eval --model "$model" --reference "$model" $stream --seed 1 --attention "$att" --json)
    python3 - "$att" "$stream" "$json" <<'PY'
import json, sys
att, stream, j = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
segs = " ".join(f"{v:.2f}" for v in j["nll_by_segment"])
print(f"{att:<14} {stream.split()[-1]:<8} {j['nll_model']:<10.4f} {j['kl_mean']:<10.4f} {j['max_pages_per_sequence']:<8} {segs}")
PY
  done
done
