// accllm quantize: float model dir -> quantized model dir, with calibration, a progress bar on a
// terminal and a per-layer error table.
#include <unistd.h>  // isatty, STDERR_FILENO

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"                      // absl::GetFlag
#include "absl/strings/str_cat.h"                 // absl::StrCat
#include "absl/strings/str_format.h"              // absl::StrFormat
#include "absl/strings/str_join.h"                // absl::StrJoin
#include "client/cli/command.h"                   // RunQuantize
#include "client/cli/flags.h"                     // FLAGS_*
#include "client/quantize/calibration_capture.h"  // CaptureCalibration
#include "client/quantize/calibration_text.h"     // CalibrationFromText, CalibrationFromIds
#include "model/model_dir.h"                      // OpenModelDir
#include "quant/model_quantizer.h"                // QuantizeModel
#include "spdlog/spdlog.h"                        // spdlog::info
#include "workers/engine/llama_model.h"           // LlamaModel

namespace accllm::cli {
namespace {

absl::Status FlagError(std::string_view flag, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", std::string(flag), ": ", std::string(message)));
}

absl::StatusOr<ModelQuantizeOptions> OptionsFromFlags() {
  ModelQuantizeOptions o;
  const std::string weights = absl::GetFlag(FLAGS_weights);
  if (weights == "w2" || weights == "w3" || weights == "w4" || weights == "w8") {
    o.base.format.bits = weights[1] - '0';
  } else {
    return FlagError("weights", absl::StrCat("must be w2, w3, w4 or w8, got \"", weights, "\""));
  }
  o.base.format.group = absl::GetFlag(FLAGS_group);
  absl::StatusOr<WeightScheme> scheme = ParseWeightScheme(absl::GetFlag(FLAGS_scheme));
  if (!scheme.ok()) return FlagError("scheme", std::string(scheme.status().message()));
  o.base.format.scheme = *scheme;
  const std::string sparsity = absl::GetFlag(FLAGS_sparsity);
  if (sparsity == "none" || sparsity == "dense") {
    o.base.format.sparsity = Sparsity::kDense;
  } else if (sparsity == "2:4") {
    o.base.format.sparsity = Sparsity::k2of4;
  } else {
    return FlagError("sparsity", absl::StrCat("must be none or 2:4, got \"", sparsity, "\""));
  }
  if (const std::string zp = absl::GetFlag(FLAGS_zero_point); zp != "auto") {
    absl::StatusOr<ZeroPoint> z = ParseZeroPoint(zp);
    if (!z.ok()) {
      return FlagError("zero-point",
                       absl::StrCat("must be auto, fractional or integer, got \"", zp, "\""));
    }
    o.base.zero_point = *z;
  }
  if (absl::Status s = ValidateWeightFormat(ResolveZeroPoint(o.base).format); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--weights/--group/--scheme/--sparsity/--zero-point: ", std::string(s.message())));
  }
  absl::StatusOr<QuantMethod> method = ParseQuantMethod(absl::GetFlag(FLAGS_method));
  if (!method.ok()) return FlagError("method", std::string(method.status().message()));
  o.base.method = *method;
  o.base.rotate = absl::GetFlag(FLAGS_rotate);
  o.damp_percent = absl::GetFlag(FLAGS_damp);
  if (!(o.damp_percent >= 0.0 && o.damp_percent <= 1.0)) {
    return FlagError("damp", "must be in [0, 1]");
  }
  const std::string act = absl::GetFlag(FLAGS_activations);
  if (act == "a8" || act == "a16") {
    o.activation_bits = act == "a8" ? 8 : 16;
  } else {
    return FlagError("activations", absl::StrCat("must be a8 or a16, got \"", act, "\""));
  }
  o.kv_cache.bits = absl::GetFlag(FLAGS_kv);
  o.kv_cache.rotate_keys = absl::GetFlag(FLAGS_kv_rotate);
  o.kv_cache.sink_tokens = absl::GetFlag(FLAGS_sinks);
  if (absl::Status s = ValidateKvFormat(o.kv_cache); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kv/--kv-rotate/--sinks: ", std::string(s.message())));
  }
  for (auto [flag, value, field] :
       {std::tuple{"embedding-bits", absl::GetFlag(FLAGS_embedding_bits), &o.embedding_bits},
        std::tuple{"head-bits", absl::GetFlag(FLAGS_head_bits), &o.lm_head_bits}}) {
    if (value != 8 && value != 16)
      return FlagError(flag, absl::StrCat("must be 8 or 16, got ", value));
    *field = value;
  }
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  o.seed = seed < 0 ? 0 : static_cast<uint64_t>(seed);  // reproducible by default
  if (const std::string path = absl::GetFlag(FLAGS_layer_config); !path.empty()) {
    absl::StatusOr<LayerConfig> lc = ReadLayerConfigFile(path);
    if (!lc.ok()) return lc.status();
    o.layer_config = *std::move(lc);
  }
  return o;
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// One line redrawn in place on a terminal, with the elapsed time and an ETA from the rate so
// far; plain log lines otherwise (CI logs, pipes), at most one every few seconds per phase.
class Progress {
 public:
  Progress() : tty_(isatty(STDERR_FILENO) != 0) {}
  void Update(std::string_view phase, int done, int total, std::string_view what) {
    const auto now = std::chrono::steady_clock::now();
    if (phase != phase_) {
      phase_ = std::string(phase);
      start_ = now;
      last_log_ = now - std::chrono::hours(1);
    }
    const double elapsed = Seconds(start_, now);
    const double eta = done > 0 ? elapsed * (total - done) / done : 0.0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = total > 0 ? done * kWidth / total : kWidth;
      std::cerr << "\r" << phase << " [" << std::string(filled, '#')
                << std::string(kWidth - filled, ' ') << "] " << done << "/" << total
                << absl::StrFormat(" %.0fs ETA %.0fs ", elapsed, eta) << what << "\033[K"
                << std::flush;
      if (done == total) std::cerr << "\n";
    } else if (done == total || Seconds(last_log_, now) >= 5.0) {
      last_log_ = now;
      spdlog::info("{} {}/{} {} ({:.1f} s, ETA {:.0f} s)", std::string(phase), done, total,
                   std::string(what), elapsed, eta);
    }
  }

 private:
  bool tty_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_, last_log_;
};

std::string Fmt(double v, const char* f) { return std::isnan(v) ? "n/a" : absl::StrFormat(f, v); }

void PrintTable(const ModelQuantizeReport& report) {
  std::cout << absl::StrFormat("%-36s %-26s %9s %10s %10s %7s\n", "layer", "format", "bits/w",
                               "rel.err", "rtn.err", "ratio");
  for (const LayerQuantReport& r : report.layers) {
    const double ratio = r.rtn_relative_error > 0 ? r.relative_error / r.rtn_relative_error : NAN;
    std::cout << absl::StrFormat("%-36s %-26s %9.3f %10s %10s %7s\n", r.prefix, r.format,
                                 r.bits_per_weight, Fmt(r.relative_error, "%.5f"),
                                 Fmt(r.rtn_relative_error, "%.5f"), Fmt(ratio, "%.3f"));
  }
  std::cout << absl::StrFormat("average bits per weight (decoder linears): %.3f\n",
                               report.bits_per_weight);
}

}  // namespace

absl::Status RunQuantize(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::string in_path = absl::GetFlag(FLAGS_model);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  if (in_path.empty()) return absl::InvalidArgumentError("--model is required");
  if (out_path.empty()) return absl::InvalidArgumentError("--out is required");
  absl::StatusOr<ModelQuantizeOptions> options = OptionsFromFlags();
  if (!options.ok()) return options.status();

  // Checked before opening: a quantized directory is not a float model to start from.
  if (absl::StatusOr<ModelConfig> config =
          ReadModelConfig(std::filesystem::path(in_path) / kConfigFileName);
      config.ok() && !config->quantization_config_json.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(in_path,
                     " is already quantized (config.json has a quantization_config); "
                     "quantize the float model it came from"));
  }
  absl::StatusOr<ModelDir> dir = OpenModelDir(in_path);
  if (!dir.ok()) return dir.status();
  if (absl::Status s = options->layer_config.CheckKeysMatch(LinearPrefixes(dir->config)); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
  if (!model.ok()) return model.status();
  const ModelConfig& c = dir->config;

  std::vector<std::vector<int32_t>> sequences;
  const std::string calib_file = absl::GetFlag(FLAGS_calib_file);
  const std::string calib_text = absl::GetFlag(FLAGS_calib_text);
  const std::string calib_ids = absl::GetFlag(FLAGS_calib_ids);
  if (!calib_file.empty() + !calib_text.empty() + !calib_ids.empty() > 1) {
    return absl::InvalidArgumentError(
        "give at most one of --calib-text, --calib-ids and --calib-file");
  }
  // RTN on dense layers uses calibration only for the per-layer error report:
  // without a calibration source given, skip it (sampling costs minutes on a 1B model).
  bool needs_calibration = false;
  for (const std::string& prefix : LinearPrefixes(c)) {
    const LayerPlan plan = options->layer_config.PlanFor(prefix, options->base);
    needs_calibration |= !plan.keep_float && (plan.method == QuantMethod::kGptq ||
                                              plan.format.sparsity == Sparsity::k2of4);
  }
  if (!needs_calibration && calib_file.empty() && calib_text.empty() && calib_ids.empty()) {
    spdlog::info("RTN needs no calibration: skipped (give --calib-text, --calib-ids or "
                 "--calib-file for the per-layer error report)");
    absl::StatusOr<ModelQuantizeReport> report =
        QuantizeModel(*dir, nullptr, *options, out_path, nullptr);
    if (!report.ok()) return report.status();
    PrintTable(*report);
    spdlog::info("wrote {}", out_path);
    return absl::OkStatus();
  }
  const int32_t samples = absl::GetFlag(FLAGS_calib_samples);
  int32_t length = absl::GetFlag(FLAGS_calib_length);
  if (length == 0) length = std::min<int32_t>(256, c.max_seq_len);
  absl::StatusOr<std::vector<std::vector<int32_t>>> read;
  const auto calib_start = std::chrono::steady_clock::now();
  if (!calib_file.empty()) {
    read = ReadCalibrationFile(calib_file, c.vocab_size, c.max_seq_len);
  } else if (!calib_text.empty()) {
    read = CalibrationFromText(*dir, calib_text, samples, length);
  } else if (!calib_ids.empty()) {
    read = CalibrationFromIds(*dir, calib_ids, samples, length);
  } else {
    spdlog::info("self-calibration: sampling {} sequences of {} tokens from the model", samples,
                 length);
    read = SampleCalibrationSequences(**model, samples, length, options->seed);
  }
  if (!read.ok()) return read.status();
  sequences = *std::move(read);
  if (const std::string save = absl::GetFlag(FLAGS_calib_save); !save.empty()) {
    std::ofstream out(save);
    for (const std::vector<int32_t>& seq : sequences) out << absl::StrJoin(seq, " ") << "\n";
    if (!out) return absl::InternalError(absl::StrCat("--calib-save: cannot write ", save));
  }
  Progress progress;
  progress.Update("calibrating", 0, static_cast<int>(sequences.size()), "sequences");  // clock
  CalibrationStats stats(c);
  if (absl::Status s = CaptureCalibration(
          **model, sequences, stats,
          [&](int done, int total) { progress.Update("calibrating", done, total, "sequences"); });
      !s.ok()) {
    return s;
  }
  model->reset();  // the float engine's memory is the solver's now (it reads the file's weights)
  const auto solve_start = std::chrono::steady_clock::now();
  spdlog::info("calibration: {} fitting tokens, {} held-out tokens ({} sequences) in {:.1f} s",
               stats.fit_tokens(), stats.held_out_tokens(), sequences.size(),
               Seconds(calib_start, solve_start));

  progress.Update("quantizing", 0, static_cast<int>(LinearPrefixes(c).size()), "");
  absl::StatusOr<ModelQuantizeReport> report = QuantizeModel(
      *dir, &stats, *options, out_path, [&](int done, int total, std::string_view prefix) {
        progress.Update("quantizing", done, total, prefix);
      });
  if (!report.ok()) return report.status();
  PrintTable(*report);
  spdlog::info("wrote {} (layers solved and written in {:.1f} s)", out_path,
               Seconds(solve_start, std::chrono::steady_clock::now()));
  return absl::OkStatus();
}

}  // namespace accllm::cli
