// accllm synth: random-weight models of real shapes.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/flags/flag.h"       // absl::GetFlag
#include "client/cli/flags.h"      // FLAGS_*
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "client/cli/command.h"    // RunSynth
#include "model/synth.h"           // WriteSynthModel
#include "spdlog/spdlog.h"         // spdlog::info


namespace accllm::cli {

absl::Status RunSynth(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::filesystem::path out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return absl::InvalidArgumentError("--out is required");
  absl::StatusOr<ModelConfig> config = SynthShape(absl::GetFlag(FLAGS_shape));
  if (!config.ok()) return absl::InvalidArgumentError(absl::StrCat("--shape: ", config.status().message()));
  SynthOptions options;
  options.seed = static_cast<uint64_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_seed)));
  absl::StatusOr<std::optional<DType>> dtype = ParseDtypeFlag(absl::GetFlag(FLAGS_dtype));
  if (!dtype.ok()) return dtype.status();
  options.dtype = *dtype;
  spdlog::info("writing {} ({} layers, dim {}, {:.1f}M linear parameters) to {}",
               absl::GetFlag(FLAGS_shape), config->n_layers, config->dim,
               config->LinearParameterCount() / 1e6, out.string());
  if (absl::Status s = WriteSynthModel(*config, out, options); !s.ok()) return s;
  spdlog::info("wrote model directory {}", out.string());
  return absl::OkStatus();
}

}  // namespace accllm::cli
