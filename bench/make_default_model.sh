#!/usr/bin/env bash
# Remakes the shipped default model (models/docs27m-w4, see its README.md) from the float
# docs27m in ../shared: convert from Hugging Face, then W4 g32 GPTQ, A8, KV4 (Hadamard keys,
# 4 fp16 sinks), int8 embedding and head, self-calibrated on 16 × 256 sampled tokens, seed 1.
# Everything but README.md in OUT_DIR is replaced; the files are written to a scratch
# directory first and moved in, so a server mapping the old files keeps running.
# usage: bench/make_default_model.sh [OUT_DIR] [FLOAT_MODEL_DIR]
#   OUT_DIR defaults to models/docs27m-w4, FLOAT_MODEL_DIR to ../shared/models/docs27m;
#   ACCLLM=path/to/accllm (default build/bin/accllm).
set -euo pipefail
out=${1:-models/docs27m-w4}
src=${2:-${ACCLLM_SHARED_DIR:-../shared}/models/docs27m}
accllm=${ACCLLM:-build/bin/accllm}
[ -f "$src/config.json" ] || { echo "$0: no float docs27m at $src (config.json missing)" >&2; exit 1; }
[ -x "$accllm" ] || { echo "$0: $accllm is not built (make serve-build)" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d "$out/.make.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$accllm" convert --from hf --in "$src" --out "$work/float"
"$accllm" quantize --model "$work/float" --out "$work/w4" --seed 1 \
  --weights w4 --group 32 --method gptq --activations a8 --kv 4 --sinks 4 \
  --embedding-bits 8 --head-bits 8 --calib-samples 16 --calib-length 256
for f in "$work/w4"/*; do mv -f "$f" "$out/"; done
echo "wrote $out:"
(cd "$out" && ls -l && sha256sum -- *.safetensors)
