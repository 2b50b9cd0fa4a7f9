// Requests, workers, completion and events. Building a step lives in
// scheduler_plan.cc.
#include "scheduler/scheduler.h"

#include <algorithm>  // std::sort, std::find, std::max
#include <utility>    // std::move

#include "absl/strings/str_cat.h"          // absl::StrCat
#include "scheduler/invariant.h"           // ACCLLM_SCHED_INVARIANT
#include "scheduler/scheduler_internal.h"  // Scheduler::Entry, Scheduler::WorkerState

namespace accllm::scheduler {
namespace {

void Erase(std::vector<RequestId>& ids, RequestId id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it != ids.end()) ids.erase(it);
}

}  // namespace

Scheduler::Scheduler(ModelLimits limits, SchedulerOptions options, const Clock* clock)
    : limits_(limits), options_(options), clock_(clock) {
  ACCLLM_SCHED_INVARIANT(clock_ != nullptr);
}

Scheduler::~Scheduler() = default;

Scheduler::Entry* Scheduler::Find(RequestId id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

const Scheduler::Entry* Scheduler::Find(RequestId id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

Scheduler::WorkerState* Scheduler::Live(WorkerId worker) {
  if (worker < 0 || worker >= static_cast<WorkerId>(workers_.size())) return nullptr;
  WorkerState* w = workers_[worker].get();
  return w->alive ? w : nullptr;
}

int64_t Scheduler::EffectivePriority(const Entry& e, TimePoint now) const {
  int64_t p = e.request.params().priority;
  if (options_.aging_period > Duration::zero() && now > e.request.arrival()) {
    p += (now - e.request.arrival()) / options_.aging_period;
  }
  return p;
}

bool Scheduler::Before(const Entry& a, const Entry& b, TimePoint now) const {
  const int64_t pa = EffectivePriority(a, now), pb = EffectivePriority(b, now);
  if (pa != pb) return pa > pb;
  return a.seq_no < b.seq_no;
}

std::vector<RequestId> Scheduler::SortedIds(const std::vector<RequestId>& ids,
                                            TimePoint now) const {
  std::vector<RequestId> sorted = ids;
  std::sort(sorted.begin(), sorted.end(),
            [&](RequestId a, RequestId b) { return Before(*Find(a), *Find(b), now); });
  return sorted;
}

int64_t Scheduler::MinPages(const Entry& e, int32_t page_size) const {
  return LambdaPageTable::PagesToRun(e.request.attention(), page_size,
                                     std::max<int64_t>(e.request.MaxPositions(), 1));
}

absl::StatusOr<WorkerId> Scheduler::AddWorker(WorkerOptions options) {
  if (options.num_pages < 1 || options.page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("worker '", options.name, "': num_pages (",
                                                   options.num_pages, ") and page_size (",
                                                   options.page_size, ") must be >= 1"));
  }
  if (options.token_budget < 0) {
    return absl::InvalidArgumentError("worker token_budget must be >= 0 (0: the default)");
  }
  const WorkerId id = static_cast<WorkerId>(workers_.size());
  workers_.push_back(std::make_unique<WorkerState>(id, std::move(options)));
  RoutePending();
  Dispatch();
  return id;
}

void Scheduler::RoutePending() {
  // Requests stranded by failures (or by every worker draining) get a home.
  std::vector<RequestId> pending;
  pending.swap(pending_);
  for (RequestId rid : pending) Route(*Find(rid));
}

absl::Status Scheduler::SetDraining(WorkerId worker, bool draining) {
  WorkerState* w = Live(worker);
  if (w == nullptr) {
    return absl::NotFoundError(absl::StrCat("worker ", worker, " is unknown or failed"));
  }
  w->draining = draining;
  if (!draining) RoutePending();
  Dispatch();
  return absl::OkStatus();
}

bool Scheduler::Route(Entry& e) {
  ACCLLM_SCHED_INVARIANT(e.request.state() == RequestState::kWaiting && !e.table);
  WorkerState* best = nullptr;
  int64_t best_load = 0, best_total = 1;
  bool any_live = false;
  for (const std::unique_ptr<WorkerState>& w : workers_) {
    if (!w->alive || w->draining) continue;
    any_live = true;
    if (MinPages(e, w->options.page_size) > w->pool.num_pages()) continue;
    // Load: pages in use plus what the queued requests will need, per page.
    int64_t load = w->pool.num_used();
    for (RequestId id : w->waiting) load += MinPages(*Find(id), w->options.page_size);
    const int64_t total = w->pool.num_pages();
    if (best == nullptr || load * best_total < best_load * total ||
        (load * best_total == best_load * total &&
         w->running.size() + w->waiting.size() < best->running.size() + best->waiting.size())) {
      best = w.get();
      best_load = load;
      best_total = total;
    }
  }
  if (best == nullptr) {
    if (!any_live) {
      e.worker.reset();
      pending_.push_back(e.request.id());
      return false;
    }
    FinishEntry(e.request.id(), FinishReason::kError,
                "no live worker has a KV pool large enough for this request", false);
    return false;
  }
  e.worker = best->id;
  best->waiting.push_back(e.request.id());
  return true;
}

absl::StatusOr<RequestId> Scheduler::Submit(RequestParams params, RequestCallbacks callbacks) {
  const RequestId id = next_id_;
  absl::StatusOr<Request> request = Request::Create(id, std::move(params), limits_, clock_->Now());
  if (!request.ok()) return request.status();
  // Admission control up front: a request no pool can ever hold is refused
  // now rather than waiting forever.
  int64_t fewest_missing = -1;
  int64_t largest_pool = 0, needed = 0;
  for (const std::unique_ptr<WorkerState>& w : workers_) {
    if (!w->alive) continue;
    const int64_t need = LambdaPageTable::PagesToRun(request->attention(), w->options.page_size,
                                                     std::max<int64_t>(request->MaxPositions(), 1));
    const int64_t missing = std::max<int64_t>(0, need - w->pool.num_pages());
    if (fewest_missing < 0 || missing < fewest_missing) {
      fewest_missing = missing;
      largest_pool = w->pool.num_pages();
      needed = need;
    }
  }
  if (fewest_missing < 0) {
    return absl::UnavailableError("no worker is registered with the scheduler");
  }
  if (fewest_missing > 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request needs at least ", needed, " KV pages (prompt ", request->prompt_length(),
        " + max_tokens ", request->params().max_tokens,
        request->attention().dense ? ", dense attention"
                                   : absl::StrCat(", sinks ", request->attention().sinks,
                                                  ", window ", request->attention().window),
        ") but the largest worker pool has ", largest_pool,
        "; lower max_tokens, use a smaller attention window, or add a larger worker"));
  }
  ++next_id_;
  auto entry = std::make_unique<Entry>(
      std::move(*request), std::make_shared<const RequestCallbacks>(std::move(callbacks)),
      next_seq_no_++);
  Entry& e = *entry;
  entries_.emplace(id, std::move(entry));
  Route(e);
  Dispatch();
  return id;
}

void Scheduler::Preempt(WorkerState& w, Entry& e) {
  ACCLLM_SCHED_INVARIANT(e.table.has_value());
  e.table->ReleaseAll(w.pool);
  e.table.reset();
  e.request.set_num_cached(0);
  ACCLLM_SCHED_INVARIANT(e.request.TransitionTo(RequestState::kWaiting).ok());
  ++e.request.times_preempted;
  ++totals_.preemptions_total;
  Erase(w.running, e.request.id());
  w.waiting.push_back(e.request.id());
}

void Scheduler::Emit(Entry& e, const std::vector<int32_t>& tokens) {
  if (tokens.empty() || !e.callbacks->on_token) return;
  const RequestId id = e.request.id();
  auto callbacks = e.callbacks;
  events_.push_back([callbacks, id, tokens] {
    for (int32_t t : tokens) callbacks->on_token(id, t);
  });
}

void Scheduler::FinishEntry(RequestId id, FinishReason reason, std::string message, bool flush) {
  Entry* e = Find(id);
  if (e == nullptr) return;
  if (flush) Emit(*e, e->request.stop_rules().Flush());
  if (e->worker.has_value()) {
    WorkerState& w = *workers_[*e->worker];
    // Pages go back at once, even while a step that uses them is in flight:
    // the worker runs steps in order, so a page handed out again is written
    // only by a later step.
    if (e->table) e->table->ReleaseAll(w.pool);
    Erase(w.running, id);
    Erase(w.waiting, id);
  }
  Erase(pending_, id);
  ACCLLM_SCHED_INVARIANT(e->request.Finish(reason, message).ok());
  switch (reason) {
    case FinishReason::kStop:
    case FinishReason::kLength:
      ++totals_.finished_total;
      break;
    case FinishReason::kCancelled:
      ++totals_.cancelled_total;
      break;
    case FinishReason::kDeadline:
      ++totals_.deadline_total;
      break;
    case FinishReason::kError:
      ++totals_.failed_total;
      break;
  }
  Completion done;
  done.id = id;
  done.reason = reason;
  done.message = std::move(message);
  done.usage.prompt_tokens = e->request.prompt_length();
  done.usage.completion_tokens = e->request.num_generated();
  done.usage.emitted_tokens = e->request.stop_rules().num_emitted();
  done.usage.preemptions = e->request.times_preempted;
  done.usage.requeues = e->request.times_requeued;
  if (e->callbacks->on_finished) {
    auto callbacks = e->callbacks;
    events_.push_back([callbacks, done] { callbacks->on_finished(done); });
  }
  entries_.erase(id);
}

absl::Status Scheduler::Cancel(RequestId id) {
  if (Find(id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("request ", id, " is not active (unknown or done)"));
  }
  FinishEntry(id, FinishReason::kCancelled, "cancelled", /*flush=*/false);
  Dispatch();
  return absl::OkStatus();
}

int64_t Scheduler::FailPending(std::string_view why) {
  std::vector<RequestId> pending;
  pending.swap(pending_);
  for (RequestId id : pending) FinishEntry(id, FinishReason::kError, std::string(why), /*flush=*/true);
  Dispatch();
  return static_cast<int64_t>(pending.size());
}

void Scheduler::ExpireDeadlines() {
  const TimePoint now = clock_->Now();
  std::vector<RequestId> expired;
  for (const auto& [id, e] : entries_) {
    const std::optional<TimePoint>& deadline = e->request.params().deadline;
    if (deadline.has_value() && *deadline <= now) expired.push_back(id);
  }
  std::sort(expired.begin(), expired.end());  // deterministic event order
  for (RequestId id : expired) {
    FinishEntry(id, FinishReason::kDeadline, "deadline passed", /*flush=*/true);
  }
  Dispatch();
}

absl::Status Scheduler::FailWorker(WorkerId worker, std::string_view why) {
  WorkerState* w = Live(worker);
  if (w == nullptr) {
    return absl::NotFoundError(absl::StrCat("worker ", worker, " is unknown or already failed"));
  }
  w->alive = false;
  w->in_flight = false;
  w->planned.clear();
  ++totals_.worker_failures_total;
  // Everything it held is recomputed elsewhere, highest priority first.
  std::vector<RequestId> moved = w->running;
  moved.insert(moved.end(), w->waiting.begin(), w->waiting.end());
  moved = SortedIds(moved, clock_->Now());
  w->running.clear();
  w->waiting.clear();
  for (RequestId id : moved) {
    Entry& e = *Find(id);
    e.worker.reset();
    if (e.table) {
      e.table->ReleaseAll(w->pool);
      e.table.reset();
      e.request.set_num_cached(0);
      ACCLLM_SCHED_INVARIANT(e.request.TransitionTo(RequestState::kWaiting).ok());
      ++e.request.times_requeued;
      ++totals_.requeues_total;
      if (e.request.times_requeued > options_.max_requeues) {
        FinishEntry(id, FinishReason::kError,
                    absl::StrCat("gave up after ", e.request.times_requeued,
                                 " worker failures; last: ", std::string(why)),
                    false);
        continue;
      }
    }
    Route(e);
  }
  Dispatch();
  return absl::OkStatus();
}

absl::Status Scheduler::CompleteStep(WorkerId worker, absl::StatusOr<StepOutput> outcome) {
  WorkerState* w = Live(worker);
  if (w == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker ", worker, " is unknown or failed; its result is ignored"));
  }
  if (!w->in_flight) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker, " has no step in flight"));
  }
  if (!outcome.ok()) {
    const std::string why(outcome.status().message());
    return FailWorker(worker, why);
  }
  // A result that does not answer the batch means the worker is broken.
  size_t expected = 0;
  for (const PlannedChunk& c : w->planned) expected += c.sample ? 1 : 0;
  std::string problem;
  if (outcome->step_id != w->in_flight_step) {
    problem = absl::StrCat("result for step ", outcome->step_id, ", expected ", w->in_flight_step);
  } else if (outcome->tokens.size() != expected) {
    problem = absl::StrCat(outcome->tokens.size(), " sampled tokens for ", expected, " requests");
  } else {
    size_t k = 0;
    for (const PlannedChunk& c : w->planned) {
      if (!c.sample) continue;
      const SampledToken& t = outcome->tokens[k++];
      if (t.request_id != c.id || t.token < 0 || t.token >= limits_.vocab_size) {
        problem = absl::StrCat("bad sampled token ", t.token, " for request ", t.request_id);
        break;
      }
    }
  }
  if (!problem.empty()) {
    const std::string message = absl::StrCat("worker ", worker, " returned a bad step: ", problem);
    (void)FailWorker(worker, message);
    return absl::InternalError(message);
  }

  w->in_flight = false;
  std::vector<PlannedChunk> planned;
  planned.swap(w->planned);
  size_t k = 0;
  for (const PlannedChunk& c : planned) {
    const int32_t token = c.sample ? outcome->tokens[k++].token : 0;
    Entry* e = Find(c.id);
    if (e == nullptr) continue;  // cancelled or expired while the step ran
    ACCLLM_SCHED_INVARIANT(e->table.has_value() && e->worker == worker);
    e->request.set_num_cached(e->request.num_cached() + c.num_tokens);
    e->table->ReleaseOutOfWindow(w->pool);
    if (!c.sample) continue;
    e->request.AppendGenerated(token);
    if (e->request.state() == RequestState::kPrefilling) {
      ACCLLM_SCHED_INVARIANT(e->request.TransitionTo(RequestState::kDecoding).ok());
    }
    StopRules::Outcome stop = e->request.stop_rules().OnToken(token);
    Emit(*e, stop.emit);
    if (stop.finish.has_value()) {
      FinishEntry(c.id, *stop.finish,
                  *stop.finish == FinishReason::kStop ? "stop rule matched" : "max_tokens reached",
                  /*flush=*/false);
    }
  }
  Dispatch();
  return absl::OkStatus();
}

void Scheduler::Dispatch() {
  if (dispatching_) return;  // the outer Dispatch picks up new events
  dispatching_ = true;
  for (size_t i = 0; i < events_.size(); ++i) {
    std::function<void()> event = std::move(events_[i]);
    event();
  }
  events_.clear();
  dispatching_ = false;
}

bool Scheduler::IsAlive(WorkerId worker) const {
  return worker >= 0 && worker < static_cast<WorkerId>(workers_.size()) && workers_[worker]->alive;
}

bool Scheduler::StepInFlight(WorkerId worker) const {
  return IsAlive(worker) && workers_[worker]->in_flight;
}

std::vector<WorkerId> Scheduler::LiveWorkers() const {
  std::vector<WorkerId> ids;
  for (const auto& w : workers_) {
    if (w->alive) ids.push_back(w->id);
  }
  return ids;
}

const PagePool* Scheduler::Pool(WorkerId worker) const {
  if (worker < 0 || worker >= static_cast<WorkerId>(workers_.size())) return nullptr;
  return &workers_[worker]->pool;
}

std::optional<RequestState> Scheduler::GetState(RequestId id) const {
  const Entry* e = Find(id);
  if (e == nullptr) return std::nullopt;
  return e->request.state();
}

std::optional<WorkerId> Scheduler::WorkerOf(RequestId id) const {
  const Entry* e = Find(id);
  if (e == nullptr) return std::nullopt;
  return e->worker;
}

int32_t Scheduler::PagesHeld(RequestId id) const {
  const Entry* e = Find(id);
  return e != nullptr && e->table ? e->table->num_live_pages() : 0;
}

SchedulerCounters Scheduler::Counters() const {
  SchedulerCounters c = totals_;
  c.workers.clear();
  c.running = 0;
  c.waiting = static_cast<int64_t>(pending_.size());
  for (const auto& w : workers_) {
    WorkerCounters wc;
    wc.id = w->id;
    wc.name = w->options.name;
    wc.alive = w->alive;
    wc.pages_used = w->alive ? w->pool.num_used() : 0;
    wc.pages_total = w->pool.num_pages();
    wc.running = static_cast<int32_t>(w->running.size());
    wc.waiting = static_cast<int32_t>(w->waiting.size());
    wc.steps = w->steps;
    wc.last_batch_tokens = w->last_batch_tokens;
    c.running += wc.running;
    c.waiting += wc.waiting;
    c.workers.push_back(std::move(wc));
  }
  return c;
}

}  // namespace accllm::scheduler
