// The per-layer quantization plan (`accllm quantize --layer-config FILE`): parse it, then match
// its glob keys against a few tensor prefixes (GlobMatch on hostile patterns must stay fast).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quant/layer_config.h"  // ParseLayerConfig

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = accllm::ParseLayerConfig(text, "layers.json");
  if (!config.ok()) return 0;
  const std::vector<std::string> prefixes = {"model.layers.0.self_attn.q_proj",
                                             "model.layers.17.mlp.down_proj", "lm_head"};
  (void)config->CheckKeysMatch(prefixes);
  for (const std::string& prefix : prefixes) (void)config->PlanFor(prefix, accllm::LayerPlan{});
  return 0;
}
