// config.json: ParseModelConfig, then its quantization_config block (as OpenModelDir reads a
// quantized model) and the writer's round trip of what was accepted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "model/config.h"               // ParseModelConfig, ModelConfigToJson
#include "quant/quantization_config.h"  // ParseQuantizationConfig

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = accllm::ParseModelConfig(text, "config.json");
  if (!config.ok()) {
    if (std::getenv("ACCLLM_FUZZ_VERBOSE") != nullptr) {
      std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    }
    return 0;
  }
  // What the CLI and synth derive from every accepted config must not overflow.
  (void)config->LinearParameterCount();
  if (!config->quantization_config_json.empty()) {
    (void)accllm::ParseQuantizationConfig(config->quantization_config_json, "config.json");
  }
  // What the parser accepted must be written and read back.
  if (!accllm::ParseModelConfig(accllm::ModelConfigToJson(*config), "round trip").ok()) {
    __builtin_trap();
  }
  return 0;
}
