#!/usr/bin/env bash
# Issue 3's table: weights W8/W4/W3/W2 (group 64) × {RTN, GPTQ, rotation+GPTQ} ×
# {dense, 2:4}, with A8 and KV16/KV8/KV4, each evaluated against the float model
# (8 streams × 256 tokens, seed 1): kl_mean, top1_agreement, bits per weight.
# Then the KV ablations (Hadamard-rotated keys, fp16 sinks).
# usage: bench/quant_kl_table.sh FLOAT_MODEL_DIR [WORK_DIR]
set -euo pipefail
ref=$1; work=${2:-$(mktemp -d)}
accllm=${ACCLLM:-build/bin/accllm}
row() {  # name, quantize flags...
  local name=$1; shift
  local out="$work/$name"
  "$accllm" quantize --model "$ref" --out "$out" --seed 1 "$@" > /dev/null 2>&1 || {
    echo "$name quantize failed"; return; }
  json=$("$accllm" eval --model "$out" --reference "$ref" --streams 8 --length 256 --seed 1 --json)
  python3 - "$name" "$json" <<'PY'
import json, sys
j = json.loads(sys.argv[2])
print(f"{sys.argv[1]:<34} {j['kl_mean']:>9.4f} {j['top1_agreement']:>7.4f} {j['bits_per_weight']:>6.3f}")
PY
  rm -rf "$out"
}
printf '%-34s %9s %7s %6s\n' config kl_mean top1 bpw
for bits in 8 4 3 2; do
  for method in rtn gptq rot+gptq; do
    for sparsity in none 2:4; do
      for kv in 16 8 4; do
        m=$method; extra=()
        [ "$method" = rot+gptq ] && { m=gptq; extra=(--rotate); }
        row "w$bits-$method-${sparsity/:/of}-a8-kv$kv" --weights "w$bits" --group 64 \
          --method "$m" "${extra[@]}" --sparsity "$sparsity" --activations a8 --kv "$kv"
      done
    done
  done
done
echo "# weights only (A16 KV16), GPTQ vs RTN at W4"
for method in rtn gptq; do row "w4-$method-a16-kv16" --weights w4 --method "$method" --activations a16 --kv 16; done
echo "# KV4 ablations on W8 RTN A16"
row "kv4-rotated-fp16sinks" --weights w8 --method rtn --activations a16 --kv 4 --kv-rotate=true --sinks 4
row "kv4-plain-fp16sinks" --weights w8 --method rtn --activations a16 --kv 4 --kv-rotate=false --sinks 4
row "kv4-rotated-int4sinks" --weights w8 --method rtn --activations a16 --kv 4 --kv-rotate=true --sinks 0
