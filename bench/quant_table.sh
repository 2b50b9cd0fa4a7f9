#!/usr/bin/env bash
# The README's "Quality on docs27m" table (issue 15): each config is quantized from the float
# docs27m once, then scored by `accllm perplexity` on the held-out ids (windows of 512), with
# bits per weight of the decoder linears and the quantize wall time. Then Λ vs dense beyond the
# trained context (one 2048-token window per row).
# usage: bench/quant_table.sh [WORK_DIR]   (env: ACCLLM=build/bin/accllm, SHARED=../shared,
#        ROWS='regex' to run only matching config names, KEEP=1 to keep the quantized models)
set -euo pipefail
accllm=${ACCLLM:-build/bin/accllm}
shared=${SHARED:-${ACCLLM_SHARED_DIR:-../shared}}
src=$shared/models/docs27m
ids=$src/reference/heldout_4096.txt
work=${1:-$(mktemp -d)}
calib=(--calib-text /usr/share/common-licenses/GPL-3 --calib-samples 16 --calib-length 256 --seed 1)

# The configs: "name|accllm quantize flags" ("float" = the converted model itself; "shipped:DIR"
# = an already quantized directory). Every quantized row also gets "${calib[@]}". Add rows here.
all_float='{"layers": {"*": "float"}}'
configs=(
  "float|float"
  "W16 A16 KV4 (Hadamard keys, 4 fp16 sinks)|--layer-config=ALL_FLOAT --activations a16 --kv 4 --embedding-bits 16 --head-bits 16"
  "W16 A16 KV4 (plain keys, 4 fp16 sinks)|--layer-config=ALL_FLOAT --activations a16 --kv 4 --kv-rotate=false --embedding-bits 16 --head-bits 16"
  "W8 g64 RTN A8 KV4|--weights w8 --group 64 --method rtn --activations a8 --kv 4"
  "W4 g64 GPTQ A8 KV4|--weights w4 --group 64 --method gptq --activations a8 --kv 4"
  "W4 g64 GPTQ A8 KV16|--weights w4 --group 64 --method gptq --activations a8 --kv 16"
  "W2 g64 GPTQ A8 KV4|--weights w2 --group 64 --method gptq --activations a8 --kv 4"
  "W2 g64 GPTQ rot A8 KV4|--weights w2 --group 64 --method gptq --rotate --activations a8 --kv 4"
  "W2 g64 GPTQ 2:4 A8 KV4|--weights w2 --group 64 --method gptq --sparsity 2:4 --activations a8 --kv 4"
  "W2 g64 GPTQ rot 2:4 A8 KV4|--weights w2 --group 64 --method gptq --rotate --sparsity 2:4 --activations a8 --kv 4"
  "W4 g64 GPTQ 2:4 A8 KV4|--weights w4 --group 64 --method gptq --sparsity 2:4 --activations a8 --kv 4"
  "shipped models/docs27m-w4 (W4 g32 GPTQ A8 KV4)|shipped:models/docs27m-w4"
)
# Λ beyond the trained context (512): "name|model|attention|context".
long_rows=(
  "float, dense, 2048-token windows|float|dense|2048"
  "float, Λ(4, 252), 2048-token windows|float|lambda:4,252|2048"
  "W4 g64 GPTQ A8 KV4, Λ(4, 252), 2048-token windows|W4 g64 GPTQ A8 KV4|lambda:4,252|2048"
)

[ -f "$src/config.json" ] || { echo "$0: no float docs27m at $src" >&2; exit 1; }
[ -x "$accllm" ] || { echo "$0: $accllm is not built" >&2; exit 1; }
mkdir -p "$work"
echo "$all_float" > "$work/all_float.json"
slug() { echo "$1" | tr -c 'A-Za-z0-9\n' '_'; }
"$accllm" convert --from hf --in "$src" --out "$work/float" > /dev/null 2>&1

ppl() {  # model dir, attention, context -> "nll ppl"
  "$accllm" perplexity --model "$1" --ids-file "$ids" --context "$3" --attention "$2" \
    --batch 4 --json 2> /dev/null |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["nll"], j["ppl"])'
}
bpw() {  # model dir -> the decoder linears' bits per weight, as the engine loads them
  "$accllm" eval --model "$1" --reference "$1" --streams 1 --length 2 --json 2> /dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["bits_per_weight"])'
}

declare -A dir_of ppl_of
float_ppl=
printf '| config | ppl | × float | bits/weight (linears) | quantize time |\n|---|---:|---:|---:|---:|\n'
for row in "${configs[@]}"; do
  name=${row%%|*}; flags=${row#*|}
  [[ -n ${ROWS:-} && ! $name =~ $ROWS && $name != float ]] && continue
  secs=
  case $flags in
    float) dir=$work/float ;;
    shipped:*) dir=${flags#shipped:} ;;
    *)
      dir=$work/$(slug "$name")
      read -ra args <<< "${flags//ALL_FLOAT/$work/all_float.json}"
      start=$(date +%s.%N)
      if ! "$accllm" quantize --model "$work/float" --out "$dir" "${calib[@]}" "${args[@]}" \
          > "$dir.log" 2>&1; then
        echo "| $name | quantize failed: $(tail -1 "$dir.log") | | | |"; continue
      fi
      secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f} s')")
      ;;
  esac
  dir_of[$name]=$dir
  read -r _ p < <(ppl "$dir" dense 512)
  ppl_of[$name]=$p
  [ "$name" = float ] && float_ppl=$p
  python3 - "$name" "$p" "$float_ppl" "$(bpw "$dir")" "${secs:-–}" <<'PY'
import sys
name, p, f, b, s = sys.argv[1:]
print(f"| {name} | {float(p):.3f} | {float(p) / float(f):.3f} | {float(b):.3f} | {s} |")
PY
done

echo
printf '| model, attention, windows | ppl | × its in-context ppl (dense, 512) |\n|---|---:|---:|\n'
for row in "${long_rows[@]}"; do
  IFS='|' read -r name model att ctx <<< "$row"
  dir=${dir_of[$model]:-}
  [ -n "$dir" ] || continue
  read -r _ p < <(ppl "$dir" "$att" "$ctx")
  in_ctx=${ppl_of[$model]}
  python3 -c "print(f'| $name | {$p:.3f} | {$p / $in_ctx:.3f} |')"
done
[ -n "${KEEP:-}" ] || rm -rf "$work"/W* "$work"/float
