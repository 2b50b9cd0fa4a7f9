#include "server/served_model.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"           // absl::StrCat
#include "model/model_dir.h"                // OpenModelDir
#include "quant/quantization_config.h"      // ParseQuantizationConfig
#include "server/server_metrics.h"          // ServerMetrics
#include "spdlog/spdlog.h"                  // spdlog::info
#include "common/model_limits.h"         // LimitsFor
#include "proto/grpc_status.h"    // FromGrpcStatus
#include "common/step_codec.h"     // EncodeStep, DecodeStepOutput

namespace accllm {

using scheduler::RequestId;

// One worker this version runs on.
struct ServedModel::Link {
  WorkerHandle worker;
  scheduler::WorkerId id = 0;
  int32_t pages = 0;
  bool detached = false;
  std::thread thread;
};

struct ServedModel::Tracking {
  scheduler::TimePoint arrived{};
  std::optional<scheduler::TimePoint> scheduled;
  std::optional<scheduler::TimePoint> first_token;
  scheduler::TimePoint last_token{};
  int64_t tokens = 0;
  int64_t prompt_tokens = 0;
};

namespace {

double Seconds(scheduler::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string QuantizationName(const ModelConfig& config) {
  if (config.quantization_config_json.empty()) return "none";
  absl::StatusOr<QuantizationConfig> q =
      ParseQuantizationConfig(config.quantization_config_json, "quantization_config");
  if (!q.ok()) return "unknown";
  const std::string sparsity(SparsityName(q->weights.sparsity));
  return absl::StrCat("w", q->weights.bits, sparsity == "dense" ? "" : "-" + sparsity, "a",
                      q->activation_bits, "kv", q->kv_cache.bits);
}

std::string StatusLabel(scheduler::FinishReason reason) {
  return std::string(scheduler::FinishReasonName(reason));
}

}  // namespace

absl::StatusOr<std::shared_ptr<ServedModel>> ServedModel::Open(
    const std::string& name, const std::filesystem::path& path, int64_t version,
    ServedModelOptions options, ServerMetrics* metrics, Cluster* cluster, SerialExecutor* reaper) {
  absl::StatusOr<ModelDir> dir = OpenModelDir(path);
  if (!dir.ok()) return dir.status();
  std::shared_ptr<ServedModel> m(new ServedModel(), [reaper](ServedModel* p) {
    reaper->Post([p] { delete p; });
  });
  m->name_ = name;
  m->version_ = version;
  m->path_ = path;
  m->config_ = dir->config;
  m->tokenizer_ = dir->tokenizer;
  m->limits_ = LimitsFor(dir->config);
  if (options.max_prompt_tokens > 0) m->limits_.max_prompt_tokens = options.max_prompt_tokens;
  m->quantization_ = QuantizationName(dir->config);
  m->options_ = options;
  m->metrics_ = metrics;
  m->cluster_ = cluster;
  m->scheduler_ = std::make_unique<scheduler::Scheduler>(m->limits_, options.scheduler, &m->clock_);
  m->stats_.set_name(name);
  m->stats_.set_version(version);
  return m;
}

ServedModel::~ServedModel() {
  std::vector<std::unique_ptr<Link>> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    links.swap(links_);
  }
  cv_.notify_all();
  for (std::unique_ptr<Link>& link : links) {
    if (link->thread.joinable()) link->thread.join();
  }
  // Requests still here (a server shutting down) end now.
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, t] : tracking_) (void)scheduler_->Cancel(id);
  }
  for (std::unique_ptr<Link>& link : links) {
    if (metrics_ != nullptr) metrics_->RemovePool(link->worker.id, name_, version_);
    if (link->detached) continue;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::WorkerUnloadModelRequest request;
    request.set_name(name_);
    request.set_version(version_);
    v1::WorkerUnloadModelResponse response;
    grpc::Status s = link->worker.stub->UnloadModel(&context, request, &response);
    if (!s.ok()) {
      spdlog::warn("unloading {} v{} from {}: {}", name_, version_, link->worker.id,
                   s.error_message());
    }
  }
  spdlog::info("model {} version {} unloaded", name_, version_);
  if (on_destroyed_) on_destroyed_();
}

absl::Status ServedModel::Attach(const WorkerHandle& worker) {
  std::lock_guard<std::mutex> attaching(attach_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& link : links_) {
      if (link->worker.id == worker.id && link->worker.incarnation == worker.incarnation) {
        return absl::OkStatus();
      }
    }
  }
  v1::WorkerLoadModelRequest request;
  request.set_name(name_);
  request.set_path(path_.string());
  request.set_version(version_);
  request.set_kv_pages(options_.kv_pages_per_worker);
  v1::WorkerLoadModelResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  grpc::Status status = worker.stub->LoadModel(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(FromGrpcStatus(status).code(),
                        absl::StrCat("worker ", worker.id, ": ", status.error_message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::CancelledError("the model is being unloaded");
  absl::StatusOr<scheduler::WorkerId> id =
      scheduler_->AddWorker({.name = worker.id,
                             .num_pages = response.kv_pages_total(),
                             .page_size = response.kv_page_tokens(),
                             .token_budget = 0});
  if (!id.ok()) return id.status();
  auto link = std::make_unique<Link>();
  link->worker = worker;
  link->id = *id;
  link->pages = response.kv_pages_total();
  Link* raw = link.get();
  links_.push_back(std::move(link));
  raw->thread = std::thread([this, raw] { StepLoop(raw); });
  if (metrics_ != nullptr) {
    metrics_->AddPool(worker.id, name_, version_, raw->pages);
    // Every series exists from the first scrape, before the refresher's first tick.
    metrics_->SetPagesUsed(worker.id, name_, version_, 0);
    metrics_->SetQueue(name_, 0, 0);
    metrics_->AddPreemptions(name_, 0);
  }
  cv_.notify_all();
  spdlog::info("model {} v{} runs on worker {} ({} KV pages of {} tokens)", name_, version_,
               worker.id, response.kv_pages_total(), response.kv_page_tokens());
  return absl::OkStatus();
}

void ServedModel::Detach(const WorkerHandle& worker, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& link : links_) {
    if (link->worker.id != worker.id || link->worker.incarnation != worker.incarnation ||
        link->detached) {
      continue;
    }
    link->detached = true;
    (void)scheduler_->FailWorker(link->id, why);  // NotFound if a failed step did it already
    if (metrics_ != nullptr) metrics_->RemovePool(worker.id, name_, version_);
  }
  cv_.notify_all();
}

void ServedModel::SetDraining(const WorkerHandle& worker, bool draining) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& link : links_) {
    if (link->worker.id == worker.id && !link->detached) {
      (void)scheduler_->SetDraining(link->id, draining);
    }
  }
  cv_.notify_all();
}

std::vector<std::string> ServedModel::workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& link : links_) {
    if (!link->detached) ids.push_back(link->worker.id);
  }
  return ids;
}

void ServedModel::StepLoop(Link* link) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_ && !link->detached) {
    absl::StatusOr<scheduler::StepBatch> batch = scheduler_->PlanStep(link->id);
    if (!batch.ok() || batch->empty()) {
      // Deadlines of queued requests still need checking while nothing runs.
      if (scheduler_->HasWork()) {
        cv_.wait_for(lock, std::chrono::milliseconds(50));
      } else {
        cv_.wait(lock);
      }
      continue;
    }
    const scheduler::TimePoint now = clock_.Now();
    for (const scheduler::SequenceChunk& c : batch->chunks) {
      auto it = tracking_.find(c.request_id);
      if (it != tracking_.end() && !it->second.scheduled) it->second.scheduled = now;
    }
    if (metrics_ != nullptr) metrics_->ObserveBatchTokens(name_, batch->num_tokens());
    v1::StepRequest request;
    EncodeStep(*batch, name_, version_, &request);
    lock.unlock();

    v1::StepResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(
                             static_cast<int64_t>(options_.step_timeout_seconds * 1000)));
    const auto start = std::chrono::steady_clock::now();
    grpc::Status status = link->worker.stub->Step(&context, request, &response);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    absl::StatusOr<scheduler::StepOutput> output =
        status.ok() ? DecodeStepOutput(response, *batch, limits_.vocab_size)
                    : absl::StatusOr<scheduler::StepOutput>(FromGrpcStatus(status));
    if (metrics_ != nullptr && status.ok()) metrics_->ObserveStep(link->worker.id, seconds);

    lock.lock();
    if (link->detached) break;  // the worker was declared gone meanwhile: already requeued
    const bool failed = !output.ok();
    const std::string why = failed ? std::string(output.status().message()) : "";
    (void)scheduler_->CompleteStep(link->id, std::move(output));
    cv_.notify_all();  // completions (and requeues) may give other loops work
    if (failed) {
      link->detached = true;
      if (metrics_ != nullptr) metrics_->RemovePool(link->worker.id, name_, version_);
      lock.unlock();
      spdlog::warn("model {}: step on worker {} failed: {}", name_, link->worker.id, why);
      if (cluster_ != nullptr) {
        cluster_->MarkDown(link->worker.id, link->worker.incarnation, "a step failed: " + why);
      }
      lock.lock();
      break;
    }
  }
}

absl::StatusOr<RequestId> ServedModel::Submit(scheduler::RequestParams params,
                                              StreamCallbacks callbacks) {
  auto cb = std::make_shared<StreamCallbacks>(std::move(callbacks));
  const int64_t prompt_tokens = static_cast<int64_t>(params.prompt.size());
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError(absl::StrCat("model ", name_, " is unloading"));
  submitting_at_ = clock_.Now();
  absl::StatusOr<RequestId> id = scheduler_->Submit(
      std::move(params),
      {.on_token = [this, cb](RequestId rid, int32_t token) { OnToken(rid, token, *cb); },
       .on_finished = [this, cb](const scheduler::Completion& c) { OnFinished(c, *cb); }});
  if (!id.ok()) {
    if (metrics_ != nullptr) metrics_->CountRequest(name_, "rejected");
    return id.status();
  }
  // Callbacks of this Submit have run already (an immediate failure): then
  // OnFinished left no tracking behind.
  if (scheduler_->GetState(*id).has_value()) {
    Tracking& t = tracking_[*id];
    t.arrived = submitting_at_;
    t.prompt_tokens = prompt_tokens;
  }
  if (metrics_ != nullptr) metrics_->AddPromptTokens(name_, prompt_tokens);
  stats_.set_prompt_tokens(stats_.prompt_tokens() + prompt_tokens);
  cv_.notify_all();
  return id;
}

void ServedModel::Cancel(RequestId id) {
  std::lock_guard<std::mutex> lock(mu_);
  (void)scheduler_->Cancel(id);  // NotFound once finished: nothing to do
  cv_.notify_all();
}

int64_t ServedModel::active_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(tracking_.size());
}

void ServedModel::OnToken(RequestId id, int32_t token, const StreamCallbacks& cb) {
  const scheduler::TimePoint now = clock_.Now();
  auto it = tracking_.find(id);
  if (it != tracking_.end()) {
    Tracking& t = it->second;
    if (!t.first_token) {
      t.first_token = now;
      if (metrics_ != nullptr) metrics_->ObserveTimeToFirstToken(name_, Seconds(now - t.arrived));
    } else if (metrics_ != nullptr) {
      metrics_->ObserveInterTokenLatency(name_, Seconds(now - t.last_token));
    }
    t.last_token = now;
    ++t.tokens;
  }
  if (metrics_ != nullptr) metrics_->AddGenerationTokens(name_, 1);
  stats_.set_generated_tokens(stats_.generated_tokens() + 1);
  if (cb.on_token) cb.on_token(token);
}

void ServedModel::OnFinished(const scheduler::Completion& c, const StreamCallbacks& cb) {
  const scheduler::TimePoint now = clock_.Now();
  Tracking t;
  if (auto it = tracking_.find(c.id); it != tracking_.end()) {
    t = it->second;
    tracking_.erase(it);
  } else {
    t.arrived = submitting_at_;
  }
  RequestTiming timing;
  const scheduler::TimePoint scheduled = t.scheduled.value_or(now);
  timing.queue = Seconds(scheduled - t.arrived);
  timing.total = Seconds(now - t.arrived);
  if (t.first_token) {
    timing.ttft = Seconds(*t.first_token - t.arrived);
    timing.prefill = Seconds(*t.first_token - scheduled);
    timing.decode = Seconds(now - *t.first_token);
  } else {
    timing.prefill = Seconds(now - scheduled);
  }
  stats_.set_queue_seconds(stats_.queue_seconds() + timing.queue);
  stats_.set_prefill_seconds(stats_.prefill_seconds() + timing.prefill);
  stats_.set_decode_seconds(stats_.decode_seconds() + timing.decode);
  switch (c.reason) {
    case scheduler::FinishReason::kStop:
    case scheduler::FinishReason::kLength:
      stats_.set_requests_success(stats_.requests_success() + 1);
      break;
    case scheduler::FinishReason::kCancelled:
      stats_.set_requests_cancelled(stats_.requests_cancelled() + 1);
      break;
    case scheduler::FinishReason::kDeadline:
    case scheduler::FinishReason::kError:
      stats_.set_requests_failed(stats_.requests_failed() + 1);
      break;
  }
  if (metrics_ != nullptr) {
    metrics_->CountRequest(name_, StatusLabel(c.reason));
    metrics_->ObserveRequestDuration(name_, timing.total);
  }
  if (cb.on_finished) cb.on_finished(c, timing);
}

v1::ModelStatistics ServedModel::Statistics() const {
  std::lock_guard<std::mutex> lock(mu_);
  v1::ModelStatistics s = stats_;
  s.set_preemptions(scheduler_->Counters().preemptions_total);
  return s;
}

std::vector<WorkerLoad> ServedModel::RefreshMetrics() {
  std::lock_guard<std::mutex> lock(mu_);
  const scheduler::SchedulerCounters counters = scheduler_->Counters();
  std::vector<WorkerLoad> loads;
  if (metrics_ != nullptr) {
    metrics_->SetQueue(name_, counters.running, counters.waiting);
    metrics_->AddPreemptions(name_, counters.preemptions_total - preemptions_seen_);
  }
  preemptions_seen_ = counters.preemptions_total;
  // Requests stranded without any worker wait for one for a while, then fail.
  if (scheduler_->LiveWorkers().empty() && counters.waiting > 0) {
    const scheduler::TimePoint now = clock_.Now();
    if (!no_worker_since_) no_worker_since_ = now;
    if (Seconds(now - *no_worker_since_) > options_.no_worker_timeout_seconds) {
      const int64_t failed = scheduler_->FailPending(absl::StrCat(
          "no worker can run model ", name_, " version ", version_, " (waited ",
          options_.no_worker_timeout_seconds, " s)"));
      spdlog::warn("model {} v{}: {} requests failed: no worker holds the model", name_,
                   version_, failed);
    }
  } else {
    no_worker_since_.reset();
  }
  for (const scheduler::WorkerCounters& w : counters.workers) {
    if (!w.alive) continue;
    if (metrics_ != nullptr) metrics_->SetPagesUsed(w.name, name_, version_, w.pages_used);
    loads.push_back({.worker = w.name,
                     .pages_used = w.pages_used,
                     .pages_total = w.pages_total,
                     .running = w.running});
  }
  return loads;
}

}  // namespace accllm
