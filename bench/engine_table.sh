#!/usr/bin/env bash
# Issue 4's table: `accllm bench-engine` on one model (2 threads unless THREADS is set):
# decode batch 1, prefill, batch-8 decode, and decode after 1k / 16k positions under
# Λ(4, 1024). Each row measures the read bandwidth in the same run (roofline_fraction),
# and under it where the time went (phases_ms: per decode step; for prefill, the whole step).
# Set BASELINE=path/to/other/accllm to add the same rows for another binary, run
# alternately with this one so both see the same machine load.
# usage: bench/engine_table.sh MODEL_DIR
set -euo pipefail
model=$1
accllm=${ACCLLM:-build/bin/accllm}
threads=${THREADS:-2}
scenarios=(
  "decode-b1|--batch 1 --prompt-tokens 128 --gen-tokens 64"
  "prefill-512|--batch 1 --prompt-tokens 512 --gen-tokens 4"
  "decode-b8|--batch 8 --prompt-tokens 64 --gen-tokens 32"
  "decode-ctx1k|--batch 1 --prompt-tokens 16 --gen-tokens 32 --context 1024"
  "decode-ctx16k|--batch 1 --prompt-tokens 16 --gen-tokens 32 --context 16384"
)
printf "%-16s %-14s %12s %12s %9s %12s %9s %7s %8s\n" binary scenario prefill_tok_s decode_tok_s \
  step_ms bandwidth_GBs roofline load_s model_MB
for s in "${scenarios[@]}"; do
  name=${s%%|*}; args=${s#*|}
  for bin in "$accllm" ${BASELINE:-}; do
    # shellcheck disable=SC2086
    json=$("$bin" bench-engine --model "$model" --threads "$threads" $args --json 2>/dev/null) || {
      echo "$name: $bin failed"; continue; }
    label=new; [ "$bin" = "$accllm" ] || label=baseline
    python3 - "$label" "$name" "$json" <<'PY'
import json, sys
j = json.loads(sys.argv[3])
print(f"{sys.argv[1]:<16} {sys.argv[2]:<14} {j['prefill_tok_s']:>12.1f} {j['decode_tok_s']:>12.2f} "
      f"{j['decode_step_ms']:>9.2f} {j['read_bandwidth_gb_s']:>12.1f} {j['roofline_fraction']:>9.3f} "
      # load_s and model_resident_bytes: absent from binaries older than these fields.
      f"{j.get('load_s', float('nan')):>7.2f} {j.get('model_resident_bytes', float('nan')) / 1e6:>8.0f}")
# Where the step goes (binaries with phases_ms): decode ms per step, or the whole prefill.
phases = j.get('prefill_phases_ms' if sys.argv[2].startswith('prefill') else 'phases_ms') or {}
if phases:
    print(" " * 17 + "phases_ms " + "  ".join(
        f"{k} {v:.2f}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1])))
PY
  done
done
