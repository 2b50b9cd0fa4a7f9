#!/usr/bin/env bash
# The serving path against the engine in process, on one model:
#   bench/serve_vs_engine.sh MODEL_DIR [PROMPT_TOKENS] [GEN_TOKENS] [THREADS]
# For concurrency C in 1 8 32: `accllm bench-engine --batch C` (prefill C prompts, then
# G decode steps) and `accllm bench-serve --concurrency C --requests 2C` against an
# accllm-server with one local worker of THREADS threads. Both report generated
# tokens per second of wall time; the engine's is B*G / (B*P/prefill + B*G/decode).
set -euo pipefail
model=$(realpath "$1"); P=${2:-128}; G=${3:-128}; T=${4:-2}
bin=$(dirname "$0")/../build/bin
work=$(mktemp -d); trap 'kill $server 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/repo" && ln -s "$model" "$work/repo/m"
"$bin/accllm-server" --listen 127.0.0.1:0 --metrics-listen "" --model-repository "$work/repo" \
  --ready-file "$work/ready" --worker-threads "$T" --worker-kv-pages 4096 >"$work/server.log" 2>&1 &
server=$!
addr=""
for _ in $(seq 600); do
  [ -s "$work/ready" ] && addr=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['grpc'])" "$work/ready") && break
  sleep 0.1
done
until "$bin/accllm" models get m --server "$addr" 2>/dev/null | grep -q READY; do sleep 0.2; done
printf "%-6s %14s %14s %8s %12s %12s\n" conc engine_out_t/s serve_out_t/s ratio ttft_p50_ms itl_p50_ms
for C in 1 8 32; do
  e=$("$bin/accllm" bench-engine --model "$model" --batch "$C" --prompt-tokens "$P" --gen-tokens "$G" \
        --threads "$T" --json 2>/dev/null)
  s=$("$bin/accllm" bench-serve --server "$addr" --model m --concurrency "$C" --requests $((2 * C)) \
        --prompt-tokens "$P" --gen-tokens "$G" --json 2>/dev/null)
  python3 - "$e" "$s" "$C" "$P" "$G" <<'PY'
import json, sys
e, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
B, P, G = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
engine = B * G / (B * P / e["prefill_tok_s"] + B * G / e["decode_tok_s"])
serve = s["output_tokens_per_s"]
print(f"{B:<6} {engine:14.1f} {serve:14.1f} {serve / engine:8.3f} {1000 * s['ttft_p50_s']:12.1f} "
      f"{1000 * (s['itl_p50_s'] or 0):12.2f}  (engine prefill {e['prefill_tok_s']:.0f}, decode "
      f"{e['decode_tok_s']:.0f} tok/s; serve errors {s['errors']})")
PY
done
