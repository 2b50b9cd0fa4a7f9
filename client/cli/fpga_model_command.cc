// accllm fpga-model: the U280 cost model (workers/fpga/cost) for a model directory or a named
// shape, printed as a table with every assumption and its source, or as JSON.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"                  // absl::GetFlag
#include "absl/strings/str_cat.h"             // absl::StrCat
#include "absl/strings/str_format.h"          // absl::StrFormat
#include "client/cli/command.h"               // RunFpgaModel
#include "client/cli/flags.h"                 // FLAGS_*
#include "model/config.h"                     // ReadModelConfig
#include "model/llama2c_checkpoint.h"         // ReadLlama2cCheckpoint
#include "model/synth.h"                      // SynthShape
#include "nlohmann/json.hpp"                  // nlohmann::json
#include "quant/quantization_config.h"        // ParseQuantizationConfig
#include "workers/fpga/cost/cost_model.h"     // EstimateCost
#include "model/attention_window_check.h"  // ValidateAttentionWindow

namespace accllm::cli {
namespace {

absl::Status FlagError(std::string_view flag, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", std::string(flag), ": ", std::string(message)));
}

// The model's shape and, for a quantized directory, its own quantization_config.
struct ModelSource {
  std::string label;
  ModelConfig config;
};

absl::StatusOr<ModelSource> LoadModelSource() {
  const std::string dir = absl::GetFlag(FLAGS_model);
  if (dir.empty()) {
    const std::string shape = absl::GetFlag(FLAGS_shape);
    absl::StatusOr<ModelConfig> c = SynthShape(shape);
    if (!c.ok()) return FlagError("shape", std::string(c.status().message()));
    return ModelSource{shape, *c};
  }
  const std::filesystem::path path(dir);
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && path.extension() == ".bin") {
    // A llama2.c checkpoint: its header is the shape.
    absl::StatusOr<Llama2cCheckpoint> ckpt = ReadLlama2cCheckpoint(path);
    if (!ckpt.ok()) return ckpt.status();
    return ModelSource{dir, ckpt->config};
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return FlagError("model", absl::StrCat("\"", dir, "\" is not a model directory"));
  }
  absl::StatusOr<ModelConfig> c = ReadModelConfig(path / kConfigFileName);
  if (!c.ok()) return c.status();
  return ModelSource{dir, *c};
}

absl::StatusOr<fpga::CostInputs> InputsFromFlags(std::string* label, bool* from_model_quant) {
  absl::StatusOr<ModelSource> source = LoadModelSource();
  if (!source.ok()) return source.status();
  *label = source->label;
  fpga::CostInputs in;
  in.model = source->config;

  absl::StatusOr<fpga::CardSpec> card = fpga::LookupCard(absl::GetFlag(FLAGS_card));
  if (!card.ok()) return FlagError("card", std::string(card.status().message()));
  in.card = *card;

  *from_model_quant = !in.model.quantization_config_json.empty();
  if (*from_model_quant) {
    absl::StatusOr<QuantizationConfig> q = ParseQuantizationConfig(
        in.model.quantization_config_json, (std::filesystem::path(*label) / kConfigFileName).string());
    if (!q.ok()) return q.status();
    in.quant = *q;
  } else {
    WeightFormat w;
    const std::string weights = absl::GetFlag(FLAGS_weights);
    if (weights == "w2" || weights == "w3" || weights == "w4" || weights == "w8") {
      w.bits = weights[1] - '0';
    } else {
      return FlagError("weights", absl::StrCat("must be w2, w3, w4 or w8, got \"", weights, "\""));
    }
    w.group = absl::GetFlag(FLAGS_group);
    absl::StatusOr<WeightScheme> scheme = ParseWeightScheme(absl::GetFlag(FLAGS_scheme));
    if (!scheme.ok()) return FlagError("scheme", std::string(scheme.status().message()));
    w.scheme = *scheme;
    const std::string sparsity = absl::GetFlag(FLAGS_sparsity);
    if (sparsity == "none" || sparsity == "dense") {
      w.sparsity = Sparsity::kDense;
    } else if (sparsity == "2:4") {
      w.sparsity = Sparsity::k2of4;
    } else {
      return FlagError("sparsity", absl::StrCat("must be none or 2:4, got \"", sparsity, "\""));
    }
    if (absl::Status s = ValidateWeightFormat(w); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--weights/--group/--scheme/--sparsity: ", std::string(s.message())));
    }
    const std::string act = absl::GetFlag(FLAGS_activations);
    if (act != "a8" && act != "a16") {
      return FlagError("activations", absl::StrCat("must be a8 or a16, got \"", act, "\""));
    }
    KvFormat kv;
    kv.bits = absl::GetFlag(FLAGS_kv);
    kv.sink_tokens = absl::GetFlag(FLAGS_sinks);
    if (absl::Status s = ValidateKvFormat(kv); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--kv/--sinks: ", std::string(s.message())));
    }
    in.quant = fpga::UniformQuantization(in.model, w, act == "a8" ? 8 : 16, kv);
  }

  const int32_t window = absl::GetFlag(FLAGS_window);
  if (window < 0) return FlagError("window", absl::StrCat("must be >= 0, got ", window));
  in.window = window == 0 ? AttentionWindow::Dense()
                          : AttentionWindow::Lambda(absl::GetFlag(FLAGS_sinks), window);
  if (absl::Status s = ValidateAttentionWindow(in.window); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--sinks/--window: ", std::string(s.message())));
  }
  const double clock_mhz = absl::GetFlag(FLAGS_clock_mhz);
  if (!(clock_mhz > 0 && clock_mhz <= 1000)) {
    return FlagError("clock-mhz", absl::StrCat("must be in (0, 1000], got ", clock_mhz));
  }
  in.clock_hz = clock_mhz * 1e6;
  const double power = absl::GetFlag(FLAGS_power_w);
  if (!(power >= 0 && power <= 10000)) {
    return FlagError("power-w", absl::StrCat("must be > 0 (0: the card's default), got ", power));
  }
  in.power_w = power;
  in.context = absl::GetFlag(FLAGS_context);
  if (in.context < 0) {
    return FlagError("context", absl::StrCat("must be >= 0 (0: the model's max_position_embeddings), got ",
                                             in.context));
  }
  in.batch = absl::GetFlag(FLAGS_batch);
  if (in.batch < 1) return FlagError("batch", absl::StrCat("must be >= 1, got ", in.batch));
  return in;
}

nlohmann::json ToJson(const std::string& label, const fpga::CostEstimate& e) {
  nlohmann::json j;
  j["model"] = label;
  j["decode_tok_s"] = e.decode_tok_s;
  j["prefill_tok_s"] = e.prefill_tok_s;
  j["hbm_bytes_per_token"] = e.hbm_bytes_per_token;
  j["bound"] = e.bound;
  j["dsp_used"] = e.dsp_used;
  j["tok_per_joule"] = e.tok_per_joule;
  j["decode_step_s"] = e.decode_step_s;
  j["context"] = e.context;
  j["engine_dsps"] = e.engine_dsps;
  j["clock_mhz"] = e.clock_hz / 1e6;
  j["power_w"] = e.power_w;
  j["bandwidth_gb_s"] = e.bandwidth_bytes_per_s / 1e9;
  j["weight_bits_per_weight"] = e.weight_bits_per_weight;
  j["hbm_resident_bytes"] = e.hbm_resident_bytes;
  j["fits_hbm"] = e.fits_hbm;
  j["step_seconds"] = {{"hbm", e.hbm_s}, {"compute", e.compute_s}, {"launch", e.launch_s}};
  j["breakdown"] = {{"weights", e.step.weights},     {"head", e.step.head},
                    {"norms", e.step.norms},
                    {"embedding", e.step.embedding}, {"kv_read", e.step.kv_read},
                    {"kv_write", e.step.kv_write},   {"total", e.step.total()}};
  nlohmann::json a = nlohmann::json::array();
  for (const fpga::Assumption& x : e.assumptions) {
    a.push_back({{"name", x.name}, {"value", x.value}, {"source", x.source}});
  }
  j["assumptions"] = a;
  return j;
}

void PrintTable(const std::string& label, const fpga::CostInputs& in, const fpga::CostEstimate& e,
                bool from_model_quant) {
  std::cout << absl::StrFormat("fpga-model: %s on %s (%s)\n\n", label, in.card.name,
                               from_model_quant ? "the model's quantization_config"
                                                : in.quant.weights.ToString());
  auto row = [](std::string_view name, const std::string& value) {
    std::cout << absl::StrFormat("  %-22s %s\n", std::string(name), value);
  };
  row("decode", absl::StrFormat("%.1f tok/s (batch %d, step %.3f ms)", e.decode_tok_s, in.batch,
                                e.decode_step_s * 1e3));
  row("prefill", absl::StrFormat("%.1f tok/s (prompt of %d tokens)", e.prefill_tok_s, e.context));
  row("bound", e.bound);
  row("step terms", absl::StrFormat("hbm %.3f ms, compute %.3f ms, launch %.3f ms", e.hbm_s * 1e3,
                                    e.compute_s * 1e3, e.launch_s * 1e3));
  row("hbm bytes / token", absl::StrFormat("%.0f (%.3f GB)", e.hbm_bytes_per_token,
                                           e.hbm_bytes_per_token / 1e9));
  row("  weights", absl::StrFormat("%d per step (%.3f bits/weight)", e.step.weights,
                                   e.weight_bits_per_weight));
  row("  head", absl::StrCat(e.step.head, " per step"));
  row("  norms", absl::StrCat(e.step.norms, " per step"));
  row("  embedding", absl::StrCat(e.step.embedding, " per step"));
  row("  kv read", absl::StrCat(e.step.kv_read, " per step"));
  row("  kv write", absl::StrCat(e.step.kv_write, " per step"));
  row("dsp used", absl::StrFormat("%d of %d", e.dsp_used, e.engine_dsps));
  row("energy", absl::StrFormat("%.2f tok/J at %.0f W", e.tok_per_joule, e.power_w));
  row("hbm resident", absl::StrFormat("%.3f GB%s", e.hbm_resident_bytes / 1e9,
                                      e.fits_hbm ? "" : "  (does NOT fit the card)"));
  std::cout << "\nassumptions:\n";
  for (const fpga::Assumption& a : e.assumptions) {
    std::cout << absl::StrFormat("  %-22s %s\n  %-22s   source: %s\n", a.name, a.value, "",
                                 a.source);
  }
}

}  // namespace

absl::Status RunFpgaModel(const std::vector<std::string>& args) {
  if (!args.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", args[0], "\""));
  }
  std::string label;
  bool from_model_quant = false;
  absl::StatusOr<fpga::CostInputs> in = InputsFromFlags(&label, &from_model_quant);
  if (!in.ok()) return in.status();
  absl::StatusOr<fpga::CostEstimate> e = fpga::EstimateCost(*in);
  if (!e.ok()) return e.status();
  if (from_model_quant) {
    e->assumptions.push_back({"formats", "per layer, from the model's quantization_config",
                              "--weights/--group/--sparsity/--activations/--kv are ignored"});
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(label, *e).dump(2) << "\n";
  } else {
    PrintTable(label, *in, *e, from_model_quant);
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
