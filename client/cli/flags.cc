#include "client/cli/flags.h"

#include "absl/flags/flag.h"  // ABSL_FLAG

ABSL_FLAG(std::string, model, "",
          "model directory (config.json + model.safetensors); for generate and bench-serve, "
          "the name of a model the server has loaded (empty: its default)");
ABSL_FLAG(std::string, out, "", "output model directory (created)");
ABSL_FLAG(std::string, dtype, "", "weight dtype to store: f32, f16 or bf16");
ABSL_FLAG(int64_t, seed, -1, "random seed (-1: a fresh one each run; synth uses 0)");

ABSL_FLAG(std::string, from, "", "source format: llama2c or hf");
ABSL_FLAG(std::string, in, "", "llama2.c .bin checkpoint, or Hugging Face model directory");
ABSL_FLAG(
    std::string, tokenizer, "",
    "llama2c only: a tokenizer to copy into the model (llama2.c .bin or SentencePiece .model)");

ABSL_FLAG(std::string, shape, "tiny", "model shape: tiny, tinyllama-1.1b or llama2-7b");

ABSL_FLAG(std::string, prompt, "", "prompt text (needs the model's tokenizer; BOS is prepended)");
ABSL_FLAG(std::string, prompt_ids, "", "prompt as token ids, e.g. \"1 403 407\"");
ABSL_FLAG(int32_t, max_tokens, 256, "most tokens to generate");
ABSL_FLAG(float, temperature, 1.0f, "sampling temperature; 0 is greedy");
ABSL_FLAG(float, top_p, 1.0f, "nucleus sampling mass in (0, 1]");
ABSL_FLAG(int32_t, top_k, 0, "sample among the k most likely tokens (0: all)");
ABSL_FLAG(bool, ids, false, "print generated token ids on one line instead of text");
ABSL_FLAG(bool, ignore_eos, false, "keep generating past the model's stop tokens");

ABSL_FLAG(std::string, reference, "", "reference (float) model directory to compare against");
ABSL_FLAG(int32_t, streams, 8, "number of token streams sampled from the reference");
ABSL_FLAG(int32_t, length, 256, "tokens per sampled stream (within the reference's context)");
ABSL_FLAG(std::string, attention, "dense",
          "attention: dense, window:W or lambda:S,W (eval: the model's; the reference is dense)");
ABSL_FLAG(int64_t, stream_length, 0,
          "instead of --streams: one stream of this many tokens, concatenating samples");
ABSL_FLAG(std::string, stream_file, "", "instead of sampling: a file of whitespace-separated ids");
ABSL_FLAG(int32_t, page_size, 16, "KV page size in tokens (paged attention)");
ABSL_FLAG(bool, json, false, "print one JSON object");

ABSL_FLAG(std::string, text_file, "",
          "perplexity: a text file, tokenized with the model's tokenizer (BOS prepended)");
ABSL_FLAG(std::string, ids_file, "", "perplexity: a file of whitespace-separated token ids");

ABSL_FLAG(std::string, weights, "w2", "weight precision: w2, w3, w4 or w8");
ABSL_FLAG(int32_t, group, 64, "input columns per quantization group");
ABSL_FLAG(std::string, scheme, "uniform", "weight scheme: uniform or pow2 (power-of-two values)");
ABSL_FLAG(std::string, sparsity, "none", "weight sparsity: none or 2:4");
ABSL_FLAG(std::string, zero_point, "auto",
          "uniform zero points: auto (integer for 2:4, fractional otherwise), fractional or "
          "integer");
ABSL_FLAG(std::string, method, "gptq", "rounding: rtn (round to nearest) or gptq (Hessian-aware)");
ABSL_FLAG(bool, rotate, false, "rotate each linear's input space (Hadamard / orthogonal, online)");
ABSL_FLAG(double, damp, 0.01, "GPTQ damping: fraction of mean(diag H) added to the diagonal");
ABSL_FLAG(std::string, activations, "a8", "activation precision at run time: a8 or a16");
ABSL_FLAG(int32_t, kv, 4, "KV cache bits: 4, 8 or 16");
ABSL_FLAG(bool, kv_rotate, true, "Hadamard-rotate keys (and queries) before KV quantization");
ABSL_FLAG(int32_t, sinks, 4, "leading sink tokens whose K/V stay fp16");
ABSL_FLAG(int32_t, calib_samples, 16, "self-calibration sequences sampled from the model");
ABSL_FLAG(int32_t, calib_length, 0, "tokens per calibration sequence (0: min(256, context))");
ABSL_FLAG(std::string, calib_file, "",
          "calibration token ids instead of sampling: whitespace-separated, one sequence a line");
ABSL_FLAG(std::string, calib_text, "",
          "calibration text instead of sampling: encoded with the model's tokenizer and cut into "
          "--calib-samples sequences of BOS + --calib-length - 1 tokens");
ABSL_FLAG(std::string, calib_save, "",
          "write the calibration sequences used to this file (--calib-file's format), e.g. to "
          "reuse self-calibration samples without sampling again");
ABSL_FLAG(std::string, calib_ids, "",
          "like --calib-text, from a file of whitespace-separated token ids (one stream)");
ABSL_FLAG(std::string, layer_config, "",
          "JSON file of per-layer overrides (mixed precision / scheme; see `quantize --help`)");
ABSL_FLAG(int32_t, embedding_bits, 8, "embedding: 8 (int8 rows) or 16 (fp16)");
ABSL_FLAG(int32_t, head_bits, 8, "LM head: 8 (int8 rows) or 16 (fp16)");

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "accllm-server address HOST:PORT");
ABSL_FLAG(int32_t, concurrency, 1, "requests in flight at once");
ABSL_FLAG(int32_t, requests, 16, "requests to send in total");
ABSL_FLAG(double, connect_timeout, 10.0,
          "seconds to wait for accllm-server to accept the connection");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA of the server's TLS certificate (empty: plaintext)");
ABSL_FLAG(std::string, tls_server_name, "",
          "name the server's certificate carries, if not the host of --server");
ABSL_FLAG(std::string, token_file, "",
          "file holding the role token sent as \"authorization: Bearer\" (else $ACCLLM_TOKEN)");

ABSL_FLAG(int32_t, prompt_tokens, 128, "prompt length in tokens");
ABSL_FLAG(int32_t, gen_tokens, 128, "tokens to generate per request");
ABSL_FLAG(int32_t, batch, 1,
          "sequences decoded together (perplexity: windows prefilled together in one step)");
ABSL_FLAG(int64_t, context, 0,
          "bench-engine: positions already in the KV cache before the timed decode (0: just the "
          "prompt); perplexity: tokens per window (0: 512)");
ABSL_FLAG(int32_t, threads, 0, "worker threads (0: all cores)");
ABSL_FLAG(std::string, device, "cpu",
          "the backend to run on in process: cpu, fpga-emu (the emulated card), fpga:N "
          "(with --xclbin) or auto");
ABSL_FLAG(std::string, xclbin, "", "the decoder kernel for an FPGA card (make fpga-xclbin)");

// fpga-model
ABSL_FLAG(std::string, card, "u280", "FPGA card the cost model prices: u280");
ABSL_FLAG(double, clock_mhz, 225.0,
          "kernel clock in MHz (AccLLM and FlightLLM ran the U280 at 225)");
ABSL_FLAG(double, power_w, 0.0,
          "board power in W for tok/J (0: the card's default, 45 W for u280)");
ABSL_FLAG(int32_t, window, 1024, "Λ attention window W in tokens (with --sinks S); 0: dense");
