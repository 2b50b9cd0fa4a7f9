#include "server/generate_call.h"

#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "model/tokenizer/utf8_stream.h"  // Utf8Stream
#include "proto/grpc_status.h"  // ToGrpcStatus

namespace accllm {

namespace {

v1::FinishReason ToProto(scheduler::FinishReason reason, bool cut_to_context) {
  switch (reason) {
    case scheduler::FinishReason::kStop: return v1::FINISH_REASON_STOP;
    case scheduler::FinishReason::kLength:
      return cut_to_context ? v1::FINISH_REASON_CONTEXT : v1::FINISH_REASON_LENGTH;
    case scheduler::FinishReason::kDeadline: return v1::FINISH_REASON_DEADLINE;
    case scheduler::FinishReason::kCancelled: return v1::FINISH_REASON_CANCELLED;
    case scheduler::FinishReason::kError: return v1::FINISH_REASON_ERROR;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

class GenerateCall;

// What the scheduler's callbacks (step threads) and gRPC's (reactor) share.
// It outlives the reactor: callbacks may still arrive after OnDone.
struct CallState {
  std::mutex mu;
  GenerateCall* reactor = nullptr;  // null once gRPC is done with the call
  std::shared_ptr<ServedModel> model;
  scheduler::RequestId id = 0;
  bool submitted = false;
  bool cancel_requested = false;  // the client left before the id was known
  bool cut_to_context = false;
  int64_t prompt_tokens = 0;
  int32_t prev_token = 0;
  Utf8Stream utf8;
  std::vector<int32_t> pending;
  bool write_in_flight = false;
  bool finished = false;       // the scheduler is done with the request
  bool final_sent = false;     // the last message (or an error) went out
  bool client_gone = false;    // a write failed: nothing more can be sent, only Finish
  scheduler::Completion completion;
  RequestTiming timing;
  absl::Status abort;          // set: end the stream with this status
  v1::GenerateResponse message;  // the one being written
  Admission* admission = nullptr;
  uint64_t ticket = 0;
  bool waiting_for_slot = false;  // admitted to the queue, not yet submitted
};

class GenerateCall final : public grpc::ServerWriteReactor<v1::GenerateResponse> {
 public:
  GenerateCall(grpc::CallbackServerContext* context, const v1::GenerateRequest* request,
               const ModelManager& models, Admission& admission, const RequestDefaults& defaults)
      : state_(std::make_shared<CallState>()) {
    state_->reactor = this;
    absl::Status started = Start(context, *request, models, admission, defaults);
    if (!started.ok()) {
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->final_sent = true;
      }
      Finish(ToGrpcStatus(started));
    }
  }

  // What to do next on the stream, decided under the state lock and done
  // outside it (gRPC may run reactions inline from StartWrite/Finish).
  struct Action {
    enum Kind { kNothing, kWrite, kWriteAndFinish, kFinish } kind = kNothing;
    GenerateCall* call = nullptr;
    grpc::Status status;
  };

  static Action Decide(CallState& s) {
    Action a;
    a.call = s.reactor;
    if (a.call == nullptr || s.write_in_flight || s.final_sent) return a;
    // gRPC needs Finish even on a cancelled call (else OnDone never comes and the
    // stream's admission slot is never freed); once the scheduler is done with it.
    if (s.client_gone) {
      if (!s.finished && s.abort.ok()) return a;
      s.final_sent = true;
      a.kind = Action::kFinish;
      a.status = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      return a;
    }
    if (!s.abort.ok()) {
      s.final_sent = true;
      a.kind = Action::kFinish;
      a.status = ToGrpcStatus(s.abort);
      return a;
    }
    if (s.pending.empty() && !s.finished) return a;
    s.message.Clear();
    std::string text;
    const Tokenizer* tokenizer = s.model->tokenizer();
    for (int32_t token : s.pending) {
      s.message.add_token_ids(token);
      if (tokenizer != nullptr) {
        absl::StatusOr<std::string> piece = tokenizer->DecodeToken(s.prev_token, token);
        if (piece.ok()) text += s.utf8.Push(*piece);
      }
      s.prev_token = token;
    }
    s.pending.clear();
    if (s.finished) {
      text += s.utf8.Flush();
      s.message.set_finish_reason(ToProto(s.completion.reason, s.cut_to_context));
      v1::Usage* usage = s.message.mutable_usage();
      usage->set_prompt_tokens(static_cast<int32_t>(s.prompt_tokens));
      usage->set_completion_tokens(static_cast<int32_t>(s.completion.usage.emitted_tokens));
      usage->set_queue_seconds(s.timing.queue);
      usage->set_time_to_first_token_seconds(s.timing.ttft);
      usage->set_preemptions(s.completion.usage.preemptions);
    }
    s.message.set_text(std::move(text));
    if (!s.finished) {
      s.write_in_flight = true;
      a.kind = Action::kWrite;
      return a;
    }
    s.final_sent = true;
    a.kind = Action::kWriteAndFinish;
    if (s.completion.reason == scheduler::FinishReason::kError) {
      a.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, s.completion.message);
    }
    return a;
  }

  // `message` stays untouched until OnWriteDone: write_in_flight / final_sent guard it.
  static void Act(const Action& a, CallState& s) {
    switch (a.kind) {
      case Action::kNothing: return;
      case Action::kWrite: a.call->StartWrite(&s.message); return;
      case Action::kWriteAndFinish:
        a.call->StartWriteAndFinish(&s.message, grpc::WriteOptions(), a.status);
        return;
      case Action::kFinish: a.call->Finish(a.status); return;
    }
  }

  static void Pump(CallState& s) {
    Action a;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      a = Decide(s);
    }
    Act(a, s);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->write_in_flight = false;
      if (!ok) state_->client_gone = true;
    }
    // The client is gone: stop the request (OnCancel may do it too; either is
    // enough) and finish now if the scheduler already ended it while this
    // write was in flight, which no later callback would do.
    if (!ok) CancelRequest();
    Pump(*state_);
  }

  void OnCancel() override { CancelRequest(); }

  void OnDone() override {
    CancelRequest();  // no-op when it finished
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->reactor = nullptr;
    }
    if (state_->admission != nullptr) state_->admission->Leave(state_->ticket);
    delete this;
  }

 private:
  absl::Status Start(grpc::CallbackServerContext* context, const v1::GenerateRequest& request,
                     const ModelManager& models, Admission& admission,
                     const RequestDefaults& defaults) {
    absl::StatusOr<std::shared_ptr<ServedModel>> model = models.Acquire(request.model());
    if (!model.ok()) return model.status();
    CallState& s = *state_;
    s.model = *model;
    const scheduler::TimePoint now = std::chrono::steady_clock::now();
    std::optional<scheduler::TimePoint> deadline;
    if (context->deadline() != std::chrono::system_clock::time_point::max()) {
      deadline = now + std::chrono::duration_cast<scheduler::Duration>(
                           context->deadline() - std::chrono::system_clock::now());
    }
    absl::StatusOr<BuiltRequest> built =
        BuildRequest(request, s.model->config(), s.model->limits(), s.model->tokenizer(),
                     defaults, now, deadline, std::random_device{}());
    if (!built.ok()) return built.status();
    s.cut_to_context = built->cut_to_context;
    s.prompt_tokens = static_cast<int64_t>(built->params.prompt.size());
    s.prev_token = built->params.prompt.back();

    std::weak_ptr<CallState> weak = state_;
    auto abort = [weak](const absl::Status& why) {
      std::shared_ptr<CallState> st = weak.lock();
      if (st == nullptr) return;
      scheduler::RequestId id = 0;
      {
        std::lock_guard<std::mutex> lock(st->mu);
        st->abort = why;
        id = st->submitted ? st->id : 0;
      }
      if (id != 0) st->model->Cancel(id);
      Pump(*st);
    };
    // Runs once the stream holds an admission slot: now, or when one frees.
    auto params = std::make_shared<scheduler::RequestParams>(std::move(built->params));
    std::shared_ptr<CallState> shared = state_;
    auto submit = [shared, params, abort] {
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->waiting_for_slot = false;
        if (shared->cancel_requested || !shared->abort.ok()) return;  // left while waiting
      }
      absl::Status submitted = Submit(shared, std::move(*params));
      if (!submitted.ok()) abort(submitted);
    };
    s.admission = &admission;
    s.waiting_for_slot = true;
    absl::Status admitted = admission.Enter(abort, submit, &s.ticket);
    if (!admitted.ok()) {
      s.admission = nullptr;
      return admitted;
    }
    return absl::OkStatus();
  }

  static absl::Status Submit(const std::shared_ptr<CallState>& shared,
                             scheduler::RequestParams params) {
    StreamCallbacks callbacks{
        .on_token =
            [shared](int32_t token) {
              {
                std::lock_guard<std::mutex> lock(shared->mu);
                shared->pending.push_back(token);
              }
              Pump(*shared);
            },
        .on_finished =
            [shared](const scheduler::Completion& c, const RequestTiming& timing) {
              {
                std::lock_guard<std::mutex> lock(shared->mu);
                shared->finished = true;
                shared->completion = c;
                shared->timing = timing;
              }
              Pump(*shared);
            }};
    absl::StatusOr<scheduler::RequestId> id =
        shared->model->Submit(std::move(params), std::move(callbacks));
    if (!id.ok()) return id.status();
    bool cancel_now = false;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->id = *id;
      shared->submitted = true;
      cancel_now = shared->cancel_requested && !shared->finished;
    }
    // The client left while we were submitting.
    if (cancel_now) shared->model->Cancel(*id);
    return absl::OkStatus();
  }

  void CancelRequest() {
    std::shared_ptr<ServedModel> model;
    scheduler::RequestId id = 0;
    bool end_waiting = false;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->submitted) state_->cancel_requested = true;
      // Still queued for a slot: nothing runs yet, so end the stream here.
      if (state_->waiting_for_slot && state_->abort.ok() && state_->reactor != nullptr) {
        state_->abort = absl::CancelledError("cancelled while waiting for a stream slot");
        end_waiting = true;
      }
    }
    if (end_waiting) {
      Pump(*state_);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->submitted || state_->finished) return;
      model = state_->model;
      id = state_->id;
    }
    model->Cancel(id);
  }

  std::shared_ptr<CallState> state_;
};

}  // namespace

grpc::ServerWriteReactor<v1::GenerateResponse>* StartGenerateCall(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request,
    const ModelManager& models, Admission& admission, const RequestDefaults& defaults) {
  return new GenerateCall(context, request, models, admission, defaults);
}

}  // namespace accllm
