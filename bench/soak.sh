#!/usr/bin/env bash
# The 10-minute soak (issue 17): accllm-server with two accllm-worker processes,
# `accllm soak` with 64 clients (random prompts, lengths, greedy and seeded
# sampling, deadlines, cancels; the model reloaded twice and one worker drained
# by the driver) while this script kill -9s a worker every 30 s and starts a
# replacement (the drained one first, so both workers keep serving). Prints the
# driver's JSON, the kills (and how many hit a worker holding streams) and the
# server's KV pages used at the end (Prometheus).
#   bench/soak.sh [SECONDS] [CONCURRENCY] [KILL_PERIOD_S]
set -euo pipefail
S=${1:-600}; C=${2:-64}; K=${3:-30}
bin=$(realpath "$(dirname "$0")/../build/bin")
work=$(mktemp -d)
declare -a pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The "grpc" (or "metrics") address from a ready file, waiting up to 60 s.
ready_address() {
  for _ in $(seq 600); do
    [ -s "$1" ] && python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2" 2>/dev/null && return
    sleep 0.1
  done
  echo "no ready file $1" >&2; return 1
}

"$bin/accllm" synth --shape tiny --seed 1 --out "$work/repo/tiny" >/dev/null
"$bin/accllm-server" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --model-repository "$work/repo" \
  --ready-file "$work/server.ready" --local-worker=false --min-workers=2 >"$work/server.log" 2>&1 &
server=$!; pids+=("$server")
addr=$(ready_address "$work/server.ready" grpc); metrics=$(ready_address "$work/server.ready" metrics)

n=0
declare -a wpid=() waddr=()  # the two live workers
start_worker() {  # start_worker SLOT
  local r="$work/worker$n.ready"
  "$bin/accllm-worker" --listen 127.0.0.1:0 --metrics-listen "" --scheduler "$addr" --device cpu \
    --threads 1 --kv-pages 1024 --ready-file "$r" >"$work/worker$n.log" 2>&1 &
  wpid[$1]=$!; pids+=("$!"); n=$((n + 1))
  waddr[$1]=$(ready_address "$r" grpc)
}
start_worker 0; start_worker 1
for _ in $(seq 300); do
  "$bin/accllm" models get tiny --server "$addr" --json 2>/dev/null |
    python3 -c "import json,sys;m=json.load(sys.stdin);sys.exit(0 if m.get('state')=='MODEL_STATE_READY' and len(m.get('workers',[]))>=2 else 1)" && break
  sleep 0.2
done

"$bin/accllm" soak --server "$addr" --model tiny --concurrency "$C" --soak-seconds "$S" --pool 64 \
  --prompt-tokens 48 --gen-tokens 96 --seed 1 --reload-at "$((S / 5)),$((S * 3 / 5))" \
  --drain-at "$((S * 2 / 5))" --server-pid "$server" >"$work/soak.json" 2>"$work/soak.err" &
soak=$!

# Running sequences and state of the worker at $1 (from `accllm workers --json`).
worker_field() {
  "$bin/accllm" workers --server "$addr" --json 2>/dev/null | python3 -c "
import json,sys
for w in json.load(sys.stdin).get('workers',[]):
  if w.get('address')==sys.argv[1] and w.get('state')!='WORKER_STATE_DOWN': print(w.get(sys.argv[2],''))" "$1" "$2"
}
kills=0; held=0; round=0
while kill -0 "$soak" 2>/dev/null; do
  for _ in $(seq $((K * 10))); do kill -0 "$soak" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$soak" 2>/dev/null || break
  v=$((round % 2)); round=$((round + 1))
  for i in 0 1; do [ "$(worker_field "${waddr[$i]}" state)" = WORKER_STATE_DRAINING ] && v=$i; done
  running=$(worker_field "${waddr[$v]}" running_sequences)
  kill -9 "${wpid[$v]}"; wait "${wpid[$v]}" 2>/dev/null || true
  kills=$((kills + 1)); [ "${running:-0}" -gt 0 ] && held=$((held + 1))
  start_worker "$v"
done
status=0; wait "$soak" || status=$?
pages=$(curl -s "http://$metrics/metrics" | awk '/^accllm_kv_pages_used[{ ]/ {s += $NF} END {print s + 0}')
echo "soak: ${S}s, $C clients, kill -9 every ${K}s: $kills kills ($held holding streams); kv_pages_used at end $pages; exit $status"
cat "$work/soak.json"
[ "$status" -eq 0 ] || tail -5 "$work/soak.err"
exit "$status"
