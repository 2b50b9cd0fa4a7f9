// accllm eval: a model against a reference on sampled or given token streams.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"             // absl::GetFlag
#include "absl/strings/str_cat.h"        // absl::StrCat
#include "absl/strings/str_format.h"     // absl::StrFormat
#include "absl/strings/str_join.h"       // absl::StrJoin
#include "client/cli/command.h"          // RunEval
#include "client/cli/device_flag.h"      // ChooseDeviceFromFlags
#include "client/cli/flags.h"            // FLAGS_*
#include "client/eval/evaluation.h"      // Evaluate
#include "client/eval/lambda_pager.h"    // ConfigureLambdaPaging
#include "model/model_dir.h"             // OpenModelDir

namespace accllm::cli {

namespace {
absl::StatusOr<std::unique_ptr<LlamaModel>> LoadModel(const std::string& flag,
                                                      const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  absl::StatusOr<ModelDir> dir = OpenModelDir(path);
  if (!dir.ok()) return dir.status();
  return LlamaModel::Load(*dir);
}
}  // namespace

absl::Status RunEval(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  absl::StatusOr<AttentionWindow> attention = ParseAttention(absl::GetFlag(FLAGS_attention));
  if (!attention.ok()) return attention.status();
  // --device cpu (the default) runs the model in the engine here; another device loads it on
  // that backend once the streams (and so the pool it needs) are known.
  const bool on_engine = absl::GetFlag(FLAGS_device) == "cpu";
  const std::string model_path = absl::GetFlag(FLAGS_model);
  if (model_path.empty()) return absl::InvalidArgumentError("--model is required");
  absl::StatusOr<ModelDir> model_dir = OpenModelDir(model_path);
  if (!model_dir.ok()) return model_dir.status();
  std::unique_ptr<LlamaModel> model;
  if (on_engine) {
    absl::StatusOr<std::unique_ptr<LlamaModel>> loaded = LlamaModel::Load(*model_dir);
    if (!loaded.ok()) return loaded.status();
    model = *std::move(loaded);
  }
  absl::StatusOr<std::unique_ptr<LlamaModel>> reference =
      LoadModel("reference", absl::GetFlag(FLAGS_reference));
  if (!reference.ok()) return reference.status();

  const uint64_t seed = static_cast<uint64_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_seed)));
  std::vector<std::vector<int32_t>> streams;
  if (!absl::GetFlag(FLAGS_stream_file).empty()) {
    absl::StatusOr<std::vector<int32_t>> s =
        ReadStreamFile(absl::GetFlag(FLAGS_stream_file), model_dir->config.vocab_size);
    if (!s.ok()) return s.status();
    streams.push_back(*std::move(s));
  } else if (absl::GetFlag(FLAGS_stream_length) > 0) {
    absl::StatusOr<std::vector<int32_t>> s =
        SampleConcatenatedStream(**reference, absl::GetFlag(FLAGS_stream_length), seed);
    if (!s.ok()) return s.status();
    streams.push_back(*std::move(s));
  } else {
    absl::StatusOr<std::vector<std::vector<int32_t>>> s = SampleStreams(
        **reference, absl::GetFlag(FLAGS_streams), absl::GetFlag(FLAGS_length), seed);
    if (!s.ok()) return s.status();
    streams = *std::move(s);
  }

  EvalOptions options;
  options.attention = *attention;
  options.page_size = absl::GetFlag(FLAGS_page_size);
  if (options.page_size < 1 || options.page_size > 4096) {
    return absl::InvalidArgumentError("--page-size must be in [1, 4096]");
  }
  if (!attention->dense) {
    int64_t longest = 0;
    for (const auto& s : streams) longest = std::max<int64_t>(longest, s.size());
    absl::Status s = ConfigureLambdaPaging(*attention, longest, &options);
    if (!s.ok()) return s;
  }
  absl::StatusOr<EvalReport> report;
  if (on_engine) {
    report = Evaluate(*model, **reference, streams, options);
  } else {
    absl::StatusOr<DeviceChoice> device = ChooseDeviceFromFlags();
    if (!device.ok()) return device.status();
    int64_t longest = 0;
    for (const auto& s : streams) longest = std::max<int64_t>(longest, s.size());
    const int32_t pages =
        options.make_pager
            ? options.num_pages
            : static_cast<int32_t>((longest + options.page_size - 1) / options.page_size + 1);
    absl::StatusOr<std::unique_ptr<BackendModel>> on_device = device->instance->Load(
        *model_dir,
        {.kv_pages = pages, .page_size = options.page_size, .threads = absl::GetFlag(FLAGS_threads)});
    if (!on_device.ok()) return on_device.status();
    report = EvaluateOnBackend(**on_device, **reference, streams, options);
  }
  if (!report.ok()) return report.status();
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << EvalReportToJson(*report) << "\n";
  } else {
    std::cout << absl::StrFormat(
        "tokens %d\nkl_mean %.6f\ntop1_agreement %.4f\nnll_model %.4f\nnll_reference %.4f\n"
        "bits_per_weight %.3f\nmax_pages_per_sequence %d\nnll_by_segment %s\n",
        report->tokens, report->kl_mean, report->top1_agreement, report->nll_model,
        report->nll_reference, report->bits_per_weight, report->max_pages_per_sequence,
        absl::StrJoin(report->nll_by_segment, " ",
                      [](std::string* out, double v) { absl::StrAppend(out, absl::StrFormat("%.4f", v)); }));
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
