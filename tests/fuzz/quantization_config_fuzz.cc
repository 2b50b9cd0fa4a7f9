// The quantization_config block of a quantized model's config.json, and the round trip of
// what it accepts (the block is rewritten by `accllm quantize`).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quant/quantization_config.h"  // ParseQuantizationConfig, QuantizationConfigToJson

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = accllm::ParseQuantizationConfig(text, "config.json");
  if (!config.ok()) return 0;
  if (!accllm::ValidateQuantizationConfig(*config).ok()) __builtin_trap();
  if (!accllm::ParseQuantizationConfig(accllm::QuantizationConfigToJson(*config), "round trip")
           .ok()) {
    __builtin_trap();
  }
  return 0;
}
