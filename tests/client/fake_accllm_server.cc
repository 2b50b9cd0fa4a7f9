#include "tests/client/fake_accllm_server.h"

#include <thread>

#include "accllm/v1/cluster.grpc.pb.h"
#include "accllm/v1/inference.grpc.pb.h"
#include "accllm/v1/models.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace accllm::testing {

namespace v1 = accllm::v1;

namespace {

v1::ModelInfo Model(const std::string& name, v1::ModelState state, int32_t vocab) {
  v1::ModelInfo info;
  info.set_name(name);
  info.set_state(state);
  info.set_version(state == v1::MODEL_STATE_READY ? 1 : 0);
  info.set_vocab_size(vocab);
  info.set_max_context(512);
  info.set_quantization("none");
  if (state == v1::MODEL_STATE_FAILED) info.set_reason("config.json: missing field hidden_size");
  return info;
}

// The fake repository; nullopt-like empty name for unknown models.
v1::ModelInfo Lookup(const std::string& name) {
  if (name == "tiny" || name.empty()) return Model("tiny", v1::MODEL_STATE_READY, 100);
  if (name == "flaky") return Model("flaky", v1::MODEL_STATE_READY, 50);
  if (name == "slow") return Model("slow", v1::MODEL_STATE_READY, 100);
  if (name == "broken") return Model("broken", v1::MODEL_STATE_FAILED, 0);
  return v1::ModelInfo();
}

grpc::Status UnknownModel(const std::string& name) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown model \"" + name + "\"");
}

}  // namespace

class FakeAccllmServer::InferenceService final : public v1::Inference::Service {
 public:
  explicit InferenceService(FakeAccllmServer* owner) : owner_(owner) {}

  grpc::Status Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                        grpc::ServerWriter<v1::GenerateResponse>* writer) override {
    const int64_t call = calls_++;
    owner_->Record([&](Observed& o) {
      ++o.generate_calls;
      for (int32_t id : request->token_ids().ids()) {
        o.min_prompt_id = std::min(o.min_prompt_id, id);
        o.max_prompt_id = std::max(o.max_prompt_id, id);
      }
      if (!request->ignore_eos()) ++o.ignore_eos_false;
      o.last_max_tokens = request->max_tokens();
      o.last_had_seed = request->sampling().has_seed();
    });
    const v1::ModelInfo model = Lookup(request->model());
    if (model.name().empty()) return UnknownModel(request->model());
    if (model.state() != v1::MODEL_STATE_READY) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "model is not READY");
    }
    if (model.name() == "flaky" && call % 4 == 3) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "injected failure");
    }
    const int32_t n = request->max_tokens() > 0 ? request->max_tokens() : 8;
    for (int32_t i = 0; i < n; ++i) {
      if (model.name() == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (context->IsCancelled()) return Cancelled();
      v1::GenerateResponse message;
      message.add_token_ids(10 + i);
      message.set_text("t" + std::to_string(10 + i) + " ");
      if (i + 1 == n) {
        message.set_finish_reason(v1::FINISH_REASON_LENGTH);
        message.mutable_usage()->set_prompt_tokens(
            request->has_token_ids() ? request->token_ids().ids_size() : 3);
        message.mutable_usage()->set_completion_tokens(n);
      }
      if (!writer->Write(message)) return Cancelled();
    }
    return grpc::Status::OK;
  }

  grpc::Status Tokenize(grpc::ServerContext*, const v1::TokenizeRequest* request,
                        v1::TokenizeResponse* response) override {
    if (request->has_decode()) {
      response->set_text(std::to_string(request->decode().ids_size()) + " ids");
      return grpc::Status::OK;
    }
    if (request->add_bos()) response->add_ids(1);
    for (char c : request->text()) response->add_ids(static_cast<unsigned char>(c));
    return grpc::Status::OK;
  }

 private:
  grpc::Status Cancelled() {
    owner_->Record([](Observed& o) { ++o.cancelled_calls; });
    return grpc::Status::CANCELLED;
  }

  FakeAccllmServer* owner_;
  std::atomic<int64_t> calls_{0};
};

class FakeAccllmServer::ModelsService final : public v1::Models::Service {
 public:
  grpc::Status List(grpc::ServerContext*, const v1::ListModelsRequest* request,
                    v1::ListModelsResponse* response) override {
    for (const char* name : {"tiny", "flaky", "slow", "broken"}) {
      v1::ModelInfo m = Lookup(name);
      if (request->ready_only() && m.state() != v1::MODEL_STATE_READY) continue;
      *response->add_models() = m;
    }
    return grpc::Status::OK;
  }
  grpc::Status Get(grpc::ServerContext*, const v1::GetModelRequest* request,
                   v1::ModelInfo* response) override {
    *response = Lookup(request->name());
    if (request->name().empty() || response->name().empty()) return UnknownModel(request->name());
    return grpc::Status::OK;
  }
  grpc::Status Load(grpc::ServerContext*, const v1::LoadModelRequest* request,
                    v1::ModelInfo* response) override {
    *response = Lookup(request->name());
    if (request->name().empty() || response->name().empty()) return UnknownModel(request->name());
    if (response->state() == v1::MODEL_STATE_FAILED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, response->reason());
    }
    return grpc::Status::OK;
  }
  grpc::Status Unload(grpc::ServerContext*, const v1::UnloadModelRequest* request,
                      v1::ModelInfo* response) override {
    *response = Lookup(request->name());
    if (request->name().empty() || response->name().empty()) return UnknownModel(request->name());
    response->set_state(v1::MODEL_STATE_AVAILABLE);
    return grpc::Status::OK;
  }
  grpc::Status Statistics(grpc::ServerContext*, const v1::ModelStatisticsRequest* request,
                          v1::ModelStatisticsResponse* response) override {
    if (!request->name().empty() && Lookup(request->name()).name().empty()) {
      return UnknownModel(request->name());
    }
    v1::ModelStatistics* s = response->add_models();
    s->set_name(request->name().empty() ? "tiny" : request->name());
    s->set_version(1);
    s->set_requests_success(7);
    s->set_generated_tokens(56);
    s->set_decode_seconds(0.25);
    return grpc::Status::OK;
  }
};

class FakeAccllmServer::ClusterService final : public v1::Cluster::Service {
 public:
  grpc::Status ListWorkers(grpc::ServerContext*, const v1::ListWorkersRequest*,
                           v1::ListWorkersResponse* response) override {
    *response->add_workers() = Worker(v1::WORKER_STATE_UP);
    return grpc::Status::OK;
  }
  grpc::Status DrainWorker(grpc::ServerContext*, const v1::DrainWorkerRequest* request,
                           v1::WorkerStatus* response) override {
    if (request->worker_id() != "w1") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "unknown worker \"" + request->worker_id() + "\"");
    }
    *response = Worker(v1::WORKER_STATE_DRAINING);
    return grpc::Status::OK;
  }

 private:
  static v1::WorkerStatus Worker(v1::WorkerState state) {
    v1::WorkerStatus w;
    w.set_worker_id("w1");
    w.set_address("127.0.0.1:6001");
    w.set_device("cpu");
    w.set_state(state);
    w.set_kv_pages_used(12);
    w.set_kv_pages_total(256);
    w.set_steps_per_second(41.5);
    w.set_running_sequences(3);
    w.add_models("tiny");
    return w;
  }
};

FakeAccllmServer::FakeAccllmServer()
    : inference_(std::make_unique<InferenceService>(this)),
      models_(std::make_unique<ModelsService>()),
      cluster_(std::make_unique<ClusterService>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(inference_.get());
  builder.RegisterService(models_.get());
  builder.RegisterService(cluster_.get());
  server_ = builder.BuildAndStart();
}

FakeAccllmServer::~FakeAccllmServer() {
  // Streams still open are cancelled rather than waited for.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

FakeAccllmServer::Observed FakeAccllmServer::observed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_;
}

void FakeAccllmServer::Record(const std::function<void(Observed&)>& update) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    update(observed_);
  }
  changed_.notify_all();
}

bool FakeAccllmServer::WaitForCancelled(int64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return observed_.cancelled_calls >= n; });
}

}  // namespace accllm::testing
