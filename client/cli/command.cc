#include "client/cli/command.h"

#include "absl/strings/ascii.h"     // absl::AsciiStrToUpper
#include "absl/strings/numbers.h"   // absl::SimpleAtoi
#include "absl/strings/str_cat.h"   // absl::StrCat
#include "absl/strings/str_split.h" // absl::StrSplit

namespace accllm::cli {

const std::vector<Command>& AllCommands() {
  static const std::vector<Command> commands = {
      {"generate", "generate text or token ids on accllm-server (streamed)",
       "accllm generate [--server ADDR] (--prompt TEXT | --prompt-ids \"1 2 3\") [--model NAME]\n"
       "                [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S]\n"
       "                [--ids] [--attention dense|window:W|lambda:S,W] [--ignore-eos]\n"
       "                [--connect-timeout SECONDS] [--tls-ca FILE] [--token-file FILE]\n\n"
       "Streams the generated text to stdout as it arrives (or, with --ids, prints the generated\n"
       "token ids space-separated on one line), exactly as `accllm run` does; timing and usage go\n"
       "to stderr. --model is a model name (empty: the server's default); --seed -1 lets the\n"
       "server pick; --attention defaults to dense, as in `accllm run`. Ctrl-C cancels the call.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "token_file",
        "prompt", "prompt_ids", "model", "max_tokens", "temperature",
        "top_p", "top_k", "seed", "ids", "attention", "ignore_eos"},
       &RunGenerate},
      {"models", "list, inspect, load and unload the server's models; statistics",
       "accllm models [list | get NAME | load NAME | unload NAME | stats [NAME]]\n"
       "              [--server ADDR] [--json] [--connect-timeout SECONDS]\n"
       "              [--tls-ca FILE] [--token-file FILE]\n\n"
       "list (the default): every model in the server's repository with its state, version,\n"
       "quantization, context and (if FAILED) the reason. get: every field of one model. load and\n"
       "unload wait for the model to change state. stats: request and token counts and cumulative\n"
       "queue, prefill and decode seconds per model. --json prints the API's message as JSON.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "token_file", "json"},
       &RunModels},
      {"workers", "list the server's workers; drain one",
       "accllm workers [list | drain ID] [--server ADDR] [--json] [--connect-timeout SECONDS]\n"
       "               [--tls-ca FILE] [--token-file FILE]\n\n"
       "list (the default): id, address, device, backend, state, KV pages used/total, steps/s,\n"
       "running sequences, what the device counted (GB its kernels read, launches, modelled\n"
       "kernel seconds) and models of every worker. drain: stop routing new sequences to worker\n"
       "ID; running ones finish there. --json prints the API's message as JSON.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "token_file", "json"},
       &RunWorkers},
      {"health", "ask accllm-server (or a worker) for its gRPC health status",
       "accllm health [--server ADDR] [--service NAME] [--connect-timeout SECONDS]\n"
       "              [--tls-ca FILE] [--tls-server-name NAME]\n\n"
       "Calls grpc.health.v1.Health/Check and prints the status (SERVING, NOT_SERVING,\n"
       "SERVICE_UNKNOWN, UNKNOWN). Exits 0 only when SERVING, so it serves as a container\n"
       "healthcheck. --service empty asks about the whole process; accllm.v1.Inference is\n"
       "SERVING only while a model is READY. --connect-timeout bounds the whole call.\n"
       "Health needs no token; a TLS port needs --tls-ca.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "service"},
       &RunHealth},
      {"bench-serve", "closed-loop load against accllm-server: TTFT, ITL, throughput",
       "accllm bench-serve [--server ADDR] [--concurrency C] [--requests N] [--prompt-tokens P]\n"
       "                   [--gen-tokens G] [--model NAME] [--seed S] [--json]\n"
       "                   [--connect-timeout SECONDS] [--tls-ca FILE] [--token-file FILE]\n\n"
       "C streams each send one request at a time until N requests were sent: prompts of P\n"
       "random token ids (seeded by --seed; -1 means 0), G tokens generated each (greedy,\n"
       "ignoring stop tokens). Reports time to first token and inter-token latency\n"
       "(p50/p90/p99), requests/s, output and prompt tokens/s and errors; --json prints one\n"
       "JSON object.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "token_file",
        "concurrency", "requests", "prompt_tokens", "gen_tokens",
        "model", "seed", "json"},
       &RunBenchServe},
      {"soak", "sustained mixed load with faults; every stream checked against its reference",
       "accllm soak --model NAME [--server ADDR] [--concurrency C] [--soak-seconds S] [--pool N]\n"
       "            [--prompt-tokens MAX] [--gen-tokens MAX] [--seed S] [--reload-at T1,T2]\n"
       "            [--drain-at T] [--server-pid PID] [--connect-timeout SECONDS]\n"
       "            [--tls-ca FILE] [--token-file FILE]\n\n"
       "Computes the references of N random requests (greedy and seeded sampling) one at a\n"
       "time, then C clients draw from them for S seconds with random deadlines and cancels,\n"
       "reloading the model and draining a worker at the given seconds. Prints one JSON object:\n"
       "streams, tokens, faults seen, lost, duplicated, mismatches, RSS/fd slopes, TTFT.",
       {"server", "connect_timeout", "tls_ca", "tls_server_name", "token_file", "concurrency",
        "soak_seconds", "pool", "prompt_tokens", "gen_tokens", "model", "seed", "reload_at",
        "drain_at", "server_pid"},
       &RunSoak},
      {"run", "generate text or token ids in process (scheduler + engine worker)",
       "accllm run --model DIR (--prompt TEXT | --prompt-ids \"1 2 3\") [--max-tokens N]\n"
       "           [--temperature T] [--top-p P] [--top-k K] [--seed S] [--ids]\n"
       "           [--attention dense|window:W|lambda:S,W] [--ignore-eos]\n"
       "           [--device cpu|fpga-emu|fpga:N|auto] [--xclbin FILE] [--threads T]\n\n"
       "Streams the generated text to stdout as it is produced (or, with --ids, prints the\n"
       "generated token ids space-separated on one line). Stops at the model's stop token or\n"
       "after --max-tokens. Timing goes to stderr. --device fpga-emu runs the model on the\n"
       "emulated FPGA card (a quantized W x A8 model), token for token what the CPU gives.",
       {"model", "prompt", "prompt_ids", "max_tokens", "temperature", "top_p", "top_k", "seed",
        "ids", "attention", "ignore_eos", "device", "xclbin", "threads"},
       &RunRun},
      {"convert", "import a llama2.c checkpoint or a Hugging Face Llama directory",
       "accllm convert --from llama2c|hf --in PATH --out DIR [--dtype f32|f16|bf16]\n"
       "               [--tokenizer FILE]\n\n"
       "Writes an accllm model directory (config.json, model.safetensors, tokenizer).\n"
       "--in is a llama2.c .bin file or a Hugging Face directory.",
       {"from", "in", "out", "dtype", "tokenizer"},
       &RunConvert},
      {"synth", "write a random-weight model of a real shape (for speed work and demos)",
       "accllm synth --shape tiny|tinyllama-1.1b|llama2-7b --out DIR [--seed N]\n"
       "             [--dtype f32|f16|bf16]\n\n"
       "Writes config.json, model.safetensors and a synthetic tokenizer.bin. The weights are\n"
       "random, so the text is gibberish, but the shapes and speed are those of the real model.",
       {"shape", "out", "seed", "dtype"},
       &RunSynth},
      {"eval", "compare a model with a reference: KL, top-1 agreement, NLL",
       "accllm eval --model DIR --reference DIR [--streams N] [--length L] [--seed S]\n"
       "            [--attention dense|window:W|lambda:S,W] [--stream-length L | --stream-file F]\n"
       "            [--device cpu|fpga-emu|fpga:N] [--xclbin FILE] [--threads T] [--json]\n\n"
       "Samples N streams of L tokens from the reference (temperature 1, seeded), runs both\n"
       "models over them and reports mean KL(reference||model) per token, top-1 agreement,\n"
       "NLL of both, NLL per 256-token segment and the KV pages a sequence held. --device runs\n"
       "the model on that backend (the reference stays on the CPU).",
       {"model", "reference", "streams", "length", "seed", "attention", "stream_length",
        "stream_file", "page_size", "device", "xclbin", "threads", "json"},
       &RunEval},
      {"perplexity", "perplexity of a model on a text, in windows of --context tokens",
       "accllm perplexity --model DIR (--text-file F | --ids-file F) [--context 512]\n"
       "                  [--attention dense|window:W|lambda:S,W] [--batch N] [--page-size 16]\n"
       "                  [--json]\n\n"
       "Tokenizes the text with the model's tokenizer (BOS prepended), or reads whitespace-\n"
       "separated token ids, and cuts the tokens into non-overlapping windows of --context\n"
       "tokens (0: 512); a last, shorter window counts if it has at least 2 tokens. Each window\n"
       "is scored on its own: its first token is context only, the others are predicted. Prints\n"
       "nll (mean negative log-likelihood per predicted token, nats), ppl = exp(nll), tokens\n"
       "(predicted) and windows. --batch N windows run through the engine together as one\n"
       "batched step (dense: each window prefilled in one chunk; Λ / window attention: one\n"
       "position per window per step over the pages the scheduler would give it). The float\n"
       "result equals `accllm eval`'s nll_model for the model against itself on the windows.",
       {"model", "text_file", "ids_file", "context", "attention", "batch", "page_size", "json"},
       &RunPerplexity},
      {"quantize", "compress a float model: W2/W3/W4/W8, 2:4, GPTQ, rotations, A8, KV4",
       "accllm quantize --model IN --out OUT [--weights w2|w3|w4|w8] [--group 64]\n"
       "                [--scheme uniform|pow2] [--sparsity none|2:4] [--method rtn|gptq]\n"
       "                [--zero-point auto|fractional|integer]\n"
       "                [--rotate] [--activations a8|a16] [--kv 4|8|16] [--kv-rotate] [--sinks 4]\n"
       "                [--calib-samples N] [--calib-length L]\n"
       "                [--calib-text F | --calib-ids F | --calib-file F] [--calib-save F]\n"
       "                [--layer-config FILE] [--seed S] [--embedding-bits 8|16] [--head-bits 8|16]\n\n"
       "Writes a quantized model directory (config.json with a quantization_config block,\n"
       "packed tensors, the tokenizer). Calibration: N sequences of L tokens sampled from the\n"
       "model itself, or real text (--calib-text, encoded with the model's tokenizer; --calib-ids\n"
       "for a stream of ids) cut into N sequences of BOS + L-1 tokens, or --calib-file (one\n"
       "sequence of ids a line); each runs as one batched prefill. A quarter is held out to measure each layer's output error, printed\n"
       "at the end next to round-to-nearest's. --layer-config is JSON:\n"
       "  {\"default\": {\"bits\": 4}, \"layers\": {\"model.layers.*.mlp.down_proj\": {\"bits\": 8},\n"
       "   \"model.layers.0.self_attn.q_proj\": \"float\"}}\n"
       "with fields bits, scheme, group_size, sparsity, zero_point, method, rotate; keys are\n"
       "layer names (without .weight) or globs. Zero points: auto makes them integers for\n"
       "uniform 2:4 layers (the 2:4 CPU kernel is faster with them) and fractional otherwise.",
       {"model", "out", "weights", "group", "scheme", "sparsity", "zero_point", "method", "rotate", "damp",
        "activations", "kv", "kv_rotate", "sinks", "calib_samples", "calib_length", "calib_file",
        "calib_text", "calib_ids", "calib_save", "layer_config", "seed", "embedding_bits", "head_bits"},
       &RunQuantize},
      {"bench-engine", "prefill and decode speed in process, against the memory roofline",
       "accllm bench-engine --model DIR [--batch B] [--prompt-tokens P] [--gen-tokens G]\n"
       "                    [--context C] [--threads T] [--attention dense|window:W|lambda:S,W]\n"
       "                    [--page-size 16] [--device cpu|fpga-emu|fpga:N] [--xclbin FILE]\n"
       "                    [--json]\n\n"
       "Loads the model, prefills B prompts of P random tokens in one step, then decodes G\n"
       "steps of B tokens through the engine worker (the path accllm-worker serves). With\n"
       "--context C the decode starts after C positions (assigned pages, not computed).\n"
       "Attention: lambda:4,1024 unless --attention names another rule. Prints prefill_tok_s,\n"
       "decode_tok_s (aggregate over the batch), weight_bytes_per_token (weights streamed per\n"
       "decode step), the read bandwidth measured in the same run, roofline_fraction =\n"
       "weight bytes x decode steps/s / bandwidth, and what loading cost: load_s and\n"
       "model_resident_bytes (resident memory the loaded model added). On an FPGA device it\n"
       "also reports what the card counted per decoded token: device_bytes_per_token (HBM\n"
       "bytes the kernels read), device_launches_per_step and the modelled kernel time.",
       {"model", "batch", "prompt_tokens", "gen_tokens", "context", "threads", "attention",
        "page_size", "device", "xclbin", "json"},
       &RunBenchEngine},
      {"fpga-model", "predict decode/prefill tok/s of a model on an FPGA card (U280 cost model)",
       "accllm fpga-model (--model DIR | --shape llama2-7b|tinyllama-1.1b|tiny) [--card u280]\n"
       "                  [--weights w2 --group 64 --scheme uniform --sparsity 2:4 --activations a8\n"
       "                   --kv 4] [--sinks 4 --window 1024] [--clock-mhz 225] [--context N]\n"
       "                  [--batch B] [--power-w W] [--json]\n\n"
       "A roofline of the AccLLM accelerator on the card: decode step = max(HBM bytes /\n"
       "bandwidth, DSP cycles / (DSPs x clock)) + kernel launches; prefill in MM mode. Prints\n"
       "decode and prefill tok/s, HBM bytes per token (weights, head, embedding, KV read/write),\n"
       "the bound (hbm | compute | launch), DSPs used, tok/J and every assumption with its\n"
       "source. --model is a model directory (a quantized one brings its own per-layer formats;\n"
       "the format flags then do not apply) or a llama2.c .bin; it wins over --shape.\n"
       "--context is the sequence length at the decode step (0: the model's trained context);\n"
       "--window 0 prices dense attention. --json prints one JSON object.",
       {"model", "shape", "card", "weights", "group", "scheme", "sparsity", "activations", "kv",
        "sinks", "window", "clock_mhz", "context", "batch", "power_w", "json"},
       &RunFpgaModel},
  };
  return commands;
}

absl::Status ParseTokenIds(std::string_view text, std::vector<int32_t>* ids) {
  ids->clear();
  for (absl::string_view item :
       absl::StrSplit(absl::string_view(text.data(), text.size()), absl::ByAnyChar(" ,\t\n"),
                      absl::SkipEmpty())) {
    int32_t id;
    if (!absl::SimpleAtoi(item, &id)) {
      return absl::InvalidArgumentError(absl::StrCat("\"", item, "\" is not a token id"));
    }
    ids->push_back(id);
  }
  if (ids->empty()) return absl::InvalidArgumentError("no token ids given");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<DType>> ParseDtypeFlag(const std::string& text) {
  if (text.empty()) return std::optional<DType>();
  const std::string upper = absl::AsciiStrToUpper(text);
  if (upper == "F32" || upper == "F16" || upper == "BF16") return std::optional(*ParseDType(upper));
  return absl::InvalidArgumentError(
      absl::StrCat("--dtype must be f32, f16 or bf16, got \"", text, "\""));
}

}  // namespace accllm::cli
