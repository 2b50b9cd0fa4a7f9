// Every flag of the `accllm` CLI. absl flags are process-global, so commands
// that share a flag (--model, --out, --seed) share one definition; each Command
// lists the names it accepts.
#ifndef ACCLLM_CLIENT_CLI_FLAGS_H_
#define ACCLLM_CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"  // ABSL_DECLARE_FLAG

ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, dtype);
ABSL_DECLARE_FLAG(int64_t, seed);
// convert
ABSL_DECLARE_FLAG(std::string, from);
ABSL_DECLARE_FLAG(std::string, in);
ABSL_DECLARE_FLAG(std::string, tokenizer);
// synth
ABSL_DECLARE_FLAG(std::string, shape);
// run
ABSL_DECLARE_FLAG(std::string, prompt);
ABSL_DECLARE_FLAG(std::string, prompt_ids);
ABSL_DECLARE_FLAG(int32_t, max_tokens);
ABSL_DECLARE_FLAG(float, temperature);
ABSL_DECLARE_FLAG(float, top_p);
ABSL_DECLARE_FLAG(int32_t, top_k);
ABSL_DECLARE_FLAG(bool, ids);
ABSL_DECLARE_FLAG(bool, ignore_eos);
// eval
ABSL_DECLARE_FLAG(std::string, reference);
ABSL_DECLARE_FLAG(int32_t, streams);
ABSL_DECLARE_FLAG(int32_t, length);
ABSL_DECLARE_FLAG(std::string, attention);
ABSL_DECLARE_FLAG(int64_t, stream_length);
ABSL_DECLARE_FLAG(std::string, stream_file);
ABSL_DECLARE_FLAG(int32_t, page_size);
ABSL_DECLARE_FLAG(bool, json);
// perplexity
ABSL_DECLARE_FLAG(std::string, text_file);
ABSL_DECLARE_FLAG(std::string, ids_file);
// quantize
ABSL_DECLARE_FLAG(std::string, weights);
ABSL_DECLARE_FLAG(int32_t, group);
ABSL_DECLARE_FLAG(std::string, scheme);
ABSL_DECLARE_FLAG(std::string, sparsity);
ABSL_DECLARE_FLAG(std::string, zero_point);
ABSL_DECLARE_FLAG(std::string, method);
ABSL_DECLARE_FLAG(bool, rotate);
ABSL_DECLARE_FLAG(double, damp);
ABSL_DECLARE_FLAG(std::string, activations);
ABSL_DECLARE_FLAG(int32_t, kv);
ABSL_DECLARE_FLAG(bool, kv_rotate);
ABSL_DECLARE_FLAG(int32_t, sinks);
ABSL_DECLARE_FLAG(int32_t, calib_samples);
ABSL_DECLARE_FLAG(int32_t, calib_length);
ABSL_DECLARE_FLAG(std::string, calib_file);
ABSL_DECLARE_FLAG(std::string, calib_text);
ABSL_DECLARE_FLAG(std::string, calib_ids);
ABSL_DECLARE_FLAG(std::string, calib_save);
ABSL_DECLARE_FLAG(std::string, layer_config);
ABSL_DECLARE_FLAG(int32_t, embedding_bits);
ABSL_DECLARE_FLAG(int32_t, head_bits);

// serving clients (generate, models, workers, bench-serve)
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(int32_t, concurrency);
ABSL_DECLARE_FLAG(int32_t, requests);
ABSL_DECLARE_FLAG(double, connect_timeout);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
ABSL_DECLARE_FLAG(std::string, token_file);
// benchmarks (bench-engine, bench-serve)
ABSL_DECLARE_FLAG(int32_t, prompt_tokens);
ABSL_DECLARE_FLAG(int32_t, gen_tokens);
ABSL_DECLARE_FLAG(int32_t, batch);
ABSL_DECLARE_FLAG(int64_t, context);
ABSL_DECLARE_FLAG(int32_t, threads);
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(std::string, xclbin);

// fpga-model
ABSL_DECLARE_FLAG(std::string, card);
ABSL_DECLARE_FLAG(double, clock_mhz);
ABSL_DECLARE_FLAG(double, power_w);
ABSL_DECLARE_FLAG(int32_t, window);

#endif  // ACCLLM_CLIENT_CLI_FLAGS_H_
