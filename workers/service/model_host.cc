#include "workers/service/model_host.h"

#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"           // absl::StrCat
#include "model/model_dir.h"                // OpenModelDir
#include "spdlog/spdlog.h"                  // spdlog::info
#include "workers/backend/backend_worker.h"  // BackendWorker
#include "common/step_codec.h"     // DecodeStep, EncodeStepOutput

namespace accllm {

struct ModelHost::Hosted {
  std::unique_ptr<BackendWorker> worker;
  StepLimits limits;
  int32_t pages_touched = 0;
};

ModelHost::ModelHost(ModelHostOptions options, std::shared_ptr<Backend> backend)
    : options_(options), backend_(std::move(backend)) {}
ModelHost::~ModelHost() = default;

absl::StatusOr<v1::WorkerLoadModelResponse> ModelHost::Load(
    const v1::WorkerLoadModelRequest& request) {
  if (request.name().empty()) return absl::InvalidArgumentError("name is empty");
  if (request.path().empty()) return absl::InvalidArgumentError("path is empty");
  if (request.version() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("version ", request.version(), " is not >= 1"));
  }
  if (request.kv_pages() < 0 || request.kv_pages() > options_.max_kv_pages) {
    return absl::InvalidArgumentError(absl::StrCat("kv_pages ", request.kv_pages(),
                                                   " is outside [0, ", options_.max_kv_pages, "]"));
  }
  if (std::shared_ptr<Hosted> loaded = Find(request.name(), request.version())) {
    // The server lost track of this worker and found it again: the same version
    // serves on with its pool (whose pages the new scheduler writes before reading).
    v1::WorkerLoadModelResponse response;
    response.set_kv_pages_total(loaded->limits.num_pages);
    response.set_kv_page_tokens(loaded->limits.page_size);
    return response;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ModelDir> dir = OpenModelDir(request.path());
  if (!dir.ok()) return dir.status();
  const int32_t pages = request.kv_pages() > 0 ? request.kv_pages() : options_.kv_pages;
  absl::StatusOr<std::unique_ptr<BackendModel>> model = backend_->Load(
      *dir, {.kv_pages = pages, .page_size = options_.page_tokens, .threads = options_.threads});
  if (!model.ok()) return model.status();
  auto hosted = std::make_shared<Hosted>();
  hosted->worker = std::make_unique<BackendWorker>(std::shared_ptr<BackendModel>(*std::move(model)));
  hosted->limits = {.vocab_size = hosted->worker->model().config().vocab_size,
                    .num_pages = pages,
                    .page_size = options_.page_tokens};
  {
    std::lock_guard<std::mutex> lock(mu_);
    models_[{request.name(), request.version()}] = hosted;
  }
  spdlog::info("loaded {} version {} from {} on {} in {:.2f} s ({} KV pages of {} tokens)",
               request.name(), request.version(), request.path(), backend_->name(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
               pages, options_.page_tokens);
  v1::WorkerLoadModelResponse response;
  response.set_kv_pages_total(pages);
  response.set_kv_page_tokens(options_.page_tokens);
  return response;
}

absl::Status ModelHost::Unload(const v1::WorkerUnloadModelRequest& request) {
  std::vector<std::shared_ptr<Hosted>> dropped;  // freed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = models_.begin(); it != models_.end();) {
      const bool match = it->first.first == request.name() &&
                         (request.version() == 0 || it->first.second == request.version());
      if (match) {
        dropped.push_back(std::move(it->second));
        it = models_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (dropped.empty()) {
    return absl::NotFoundError(absl::StrCat("model ", request.name(),
                                            request.version() ? absl::StrCat(" version ", request.version()) : "",
                                            " is not loaded on this worker"));
  }
  spdlog::info("unloaded {} ({} version(s))", request.name(), dropped.size());
  return absl::OkStatus();
}

std::shared_ptr<ModelHost::Hosted> ModelHost::Find(const std::string& name, int64_t version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find({name, version});
  return it == models_.end() ? nullptr : it->second;
}

absl::StatusOr<v1::StepResponse> ModelHost::Step(const v1::StepRequest& request,
                                                 StepStats* stats) {
  std::shared_ptr<Hosted> hosted = Find(request.model(), request.version());
  if (hosted == nullptr) {
    return absl::NotFoundError(absl::StrCat("model ", request.model(), " version ",
                                            request.version(), " is not loaded on this worker"));
  }
  absl::StatusOr<scheduler::StepBatch> batch = DecodeStep(request, hosted->limits);
  if (!batch.ok()) return batch.status();
  std::set<int32_t> touched;
  int32_t page_copies = 0;
  for (const scheduler::SequenceChunk& c : batch->chunks) {
    for (const scheduler::PageRef& p : c.pages) touched.insert(p.physical);
    page_copies += static_cast<int32_t>(c.page_copies.size());
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<scheduler::StepOutput> output;
  DeviceCounters before, after;
  {
    std::lock_guard<std::mutex> lock(step_mu_);
    before = hosted->worker->model().counters();
    output = hosted->worker->Step(*batch);
    after = hosted->worker->model().counters();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!output.ok()) return output.status();
  v1::StepResponse response;
  EncodeStepOutput(*output, &response);
  response.set_step_seconds(seconds);
  {
    std::lock_guard<std::mutex> lock(mu_);
    hosted->pages_touched = static_cast<int32_t>(touched.size());
    ++steps_total_;
  }
  if (stats != nullptr) {
    *stats = {.tokens = batch->num_tokens(),
              .chunks = static_cast<int32_t>(batch->chunks.size()),
              .pages_touched = static_cast<int32_t>(touched.size()),
              .page_copies = page_copies,
              .seconds = seconds,
              .device = {.bytes_read = after.bytes_read - before.bytes_read,
                         .bytes_written = after.bytes_written - before.bytes_written,
                         .launches = after.launches - before.launches,
                         .kernel_seconds = after.kernel_seconds - before.kernel_seconds,
                         .steps = after.steps - before.steps}};
  }
  return response;
}

std::vector<std::string> ModelHost::Models() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [key, hosted] : models_) names.push_back(absl::StrCat(key.first, "@", key.second));
  return names;
}

int32_t ModelHost::PagesTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  int32_t total = 0;
  for (const auto& [key, hosted] : models_) total += hosted->limits.num_pages;
  return total;
}

int32_t ModelHost::PagesUsed() const {
  std::lock_guard<std::mutex> lock(mu_);
  int32_t used = 0;
  for (const auto& [key, hosted] : models_) used += hosted->pages_touched;
  return used;
}

void CountersToProto(const DeviceCounters& c, v1::DeviceCounters* out) {
  out->set_bytes_read(c.bytes_read);
  out->set_bytes_written(c.bytes_written);
  out->set_launches(c.launches);
  out->set_kernel_seconds(c.kernel_seconds);
}

DeviceCounters ModelHost::Counters() const {
  // Backends guard their own counters: heartbeats must not wait for a step (a long prefill
  // on the emulated card would outlast the lease).
  std::lock_guard<std::mutex> lock(mu_);
  DeviceCounters sum;
  for (const auto& [key, hosted] : models_) {
    const DeviceCounters c = hosted->worker->model().counters();
    sum.bytes_read += c.bytes_read;
    sum.bytes_written += c.bytes_written;
    sum.launches += c.launches;
    sum.kernel_seconds += c.kernel_seconds;
    sum.steps += c.steps;
  }
  return sum;
}

int64_t ModelHost::StepsTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_total_;
}

}  // namespace accllm
