// Building one step for one worker: decodes first, then prefill chunks, then
// admissions, all under the worker's token budget (see scheduler.h).
#include <algorithm>  // std::min, std::find, std::mismatch
#include <utility>    // std::move

#include "absl/strings/str_cat.h"          // absl::StrCat
#include "scheduler/invariant.h"           // ACCLLM_SCHED_INVARIANT
#include "scheduler/scheduler.h"           // Scheduler
#include "scheduler/scheduler_internal.h"  // Scheduler::Entry, WorkerState, PlanContext

namespace accllm::scheduler {
namespace {

void EraseId(std::vector<RequestId>& ids, RequestId id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it != ids.end()) ids.erase(it);
}

}  // namespace

absl::StatusOr<StepBatch> Scheduler::PlanStep(WorkerId worker) {
  if (worker < 0 || worker >= static_cast<WorkerId>(workers_.size())) {
    return absl::NotFoundError(absl::StrCat("unknown worker ", worker));
  }
  WorkerState& w = *workers_[worker];
  if (!w.alive) return absl::FailedPreconditionError(absl::StrCat("worker ", worker, " failed"));
  if (w.in_flight) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker ", worker, " still has step ", w.in_flight_step, " in flight"));
  }
  ExpireDeadlines();

  PlanContext ctx{w, clock_->Now(), {}, 0, {}, {}};
  ctx.batch.worker = worker;
  ctx.batch.step_id = w.next_step_id;
  ctx.budget = w.options.token_budget > 0 ? w.options.token_budget : options_.token_budget;
  ctx.order = SortedIds(w.running, ctx.now);

  PreemptForWaiting(ctx);
  ScheduleDecodes(ctx);
  ContinuePrefills(ctx);
  AdmitWaiting(ctx);

  if (!ctx.batch.empty()) {
    w.in_flight = true;
    w.in_flight_step = w.next_step_id++;
    ++w.steps;
    w.last_batch_tokens = ctx.batch.num_tokens();
    ++totals_.steps_total;
    totals_.batch_tokens_total += w.last_batch_tokens;
  }
  Dispatch();
  return std::move(ctx.batch);
}

bool Scheduler::ChunkLimitReached(const PlanContext& ctx) const {
  return ctx.budget <= 0 ||
         static_cast<int64_t>(ctx.batch.chunks.size()) >= options_.max_sequences_per_step;
}

void Scheduler::AddChunk(PlanContext& ctx, Entry& e, int64_t n) {
  absl::StatusOr<AppendResult> appended = e.table->Append(n, ctx.w.pool);
  ACCLLM_SCHED_INVARIANT(appended.ok());  // callers checked the free pages
  const std::vector<int32_t>& tokens = e.request.tokens();
  SequenceChunk chunk;
  chunk.request_id = e.request.id();
  chunk.first_position = appended->first_position;
  chunk.tokens.assign(tokens.begin() + chunk.first_position,
                      tokens.begin() + chunk.first_position + n);
  chunk.pages = std::move(appended->pages);
  chunk.page_copies = std::move(appended->copies);
  chunk.attention = e.request.attention();
  chunk.page_size = ctx.w.options.page_size;
  chunk.sample = e.table->length() == e.request.num_tokens();
  chunk.sampling = e.request.params().sampling;
  chunk.sample_position = e.table->length();
  ctx.batch.chunks.push_back(std::move(chunk));
  ctx.w.planned.push_back({e.request.id(), n, ctx.batch.chunks.back().sample});
  ctx.in_batch.insert(e.request.id());
  ctx.budget -= n;
}

// The lowest-priority running sequence after position `after` in ctx.order
// that has no chunk in this batch yet; 0 when there is none.
RequestId Scheduler::VictimAfter(const PlanContext& ctx, size_t after) const {
  for (size_t j = ctx.order.size(); j-- > after + 1;) {
    if (!ctx.in_batch.contains(ctx.order[j])) return ctx.order[j];
  }
  return 0;
}

void Scheduler::PreemptVictim(PlanContext& ctx, RequestId victim) {
  Preempt(ctx.w, *Find(victim));
  EraseId(ctx.order, victim);
}

void Scheduler::PreemptForWaiting(PlanContext& ctx) {
  // Only the first waiting request in priority order may push running ones
  // out, and only those strictly behind it; one per step keeps this simple
  // and the next step looks again.
  if (ctx.w.waiting.empty() || ctx.order.empty()) return;
  const std::vector<RequestId> waiting = SortedIds(ctx.w.waiting, ctx.now);
  Entry& head = *Find(waiting.front());
  const int32_t page_size = ctx.w.options.page_size;
  const int64_t need =
      LambdaPageTable::PagesToRun(head.request.attention(), page_size, head.request.num_tokens());
  while (ctx.w.pool.num_free() < need && !ctx.order.empty()) {
    Entry& last = *Find(ctx.order.back());
    if (!Before(head, last, ctx.now)) break;
    PreemptVictim(ctx, ctx.order.back());
  }
}

void Scheduler::ScheduleDecodes(PlanContext& ctx) {
  for (size_t i = 0; i < ctx.order.size() && !ChunkLimitReached(ctx);) {
    Entry& e = *Find(ctx.order[i]);
    if (e.request.state() != RequestState::kDecoding) {
      ++i;
      continue;
    }
    bool preempted_self = false;
    // The pool ran dry: recompute-preempt the lowest-priority, newest
    // sequence, which may be this one.
    while (e.table->PagesNeededToAppend(1, ctx.w.pool) > ctx.w.pool.num_free()) {
      const RequestId victim = VictimAfter(ctx, i);
      if (victim == 0) {
        PreemptVictim(ctx, e.request.id());
        preempted_self = true;
        break;
      }
      PreemptVictim(ctx, victim);
    }
    if (preempted_self) continue;  // order[i] is now the next sequence
    AddChunk(ctx, e, 1);
    ++i;
  }
}

void Scheduler::ContinuePrefills(PlanContext& ctx) {
  for (size_t i = 0; i < ctx.order.size() && !ChunkLimitReached(ctx); ++i) {
    Entry& e = *Find(ctx.order[i]);
    if (e.request.state() != RequestState::kPrefilling || ctx.in_batch.contains(e.request.id())) {
      continue;
    }
    const int64_t want = std::min(e.request.num_tokens() - e.table->length(), ctx.budget);
    int64_t n = e.table->MaxAppendable(want, ctx.w.pool.num_free(), ctx.w.pool);
    while (n == 0) {
      const RequestId victim = VictimAfter(ctx, i);
      if (victim == 0) break;  // wait for pages held by sequences ahead of it
      PreemptVictim(ctx, victim);
      n = e.table->MaxAppendable(want, ctx.w.pool.num_free(), ctx.w.pool);
    }
    if (n > 0) AddChunk(ctx, e, n);
  }
}

int64_t Scheduler::AdoptSharedPrefix(WorkerState& w, Entry& e) {
  const int32_t page_size = w.options.page_size;
  const std::vector<int32_t>& mine = e.request.tokens();
  // At least one token is left to feed, so the last one is sampled from.
  const int64_t limit = e.request.num_tokens() - 1;
  const Entry* best = nullptr;
  int64_t best_len = 0;
  for (RequestId id : w.running) {
    const Entry& other = *Find(id);
    if (!other.table || !(other.request.attention() == e.request.attention())) continue;
    const std::vector<int32_t>& theirs = other.request.tokens();
    // Only positions whose K/V are computed (committed) can be shared.
    const int64_t n = std::min(limit, other.request.num_cached());
    const int64_t common =
        std::mismatch(mine.begin(), mine.begin() + n, theirs.begin()).first - mine.begin();
    if (common > best_len) {
      best = &other;
      best_len = common;
    }
  }
  if (best == nullptr || best_len < page_size) return 0;  // not worth a page
  if (!e.table->AdoptPrefix(*best->table, best_len, w.pool).ok()) return 0;
  totals_.shared_prefix_tokens_total += best_len;
  return best_len;
}

void Scheduler::AdmitWaiting(PlanContext& ctx) {
  WorkerState& w = ctx.w;
  const std::vector<RequestId> waiting = SortedIds(w.waiting, ctx.now);
  for (RequestId id : waiting) {
    if (ChunkLimitReached(ctx)) break;
    Entry& e = *Find(id);
    e.table.emplace(e.request.attention(), w.options.page_size);
    const int64_t shared = options_.prefix_sharing ? AdoptSharedPrefix(w, e) : 0;
    // Admission by free pages: the whole current token list (prompt, or
    // prompt + generated when recomputing) must fit next to what runs.
    const int64_t need = LambdaPageTable::PagesToRun(e.request.attention(), w.options.page_size,
                                                     e.request.num_tokens()) -
                         e.table->num_live_pages();
    const int64_t want = std::min(e.request.num_tokens() - shared, ctx.budget);
    const int64_t n = e.table->MaxAppendable(want, w.pool.num_free(), w.pool);
    if (w.pool.num_free() < need || n == 0) {
      // FCFS within priority: nobody overtakes the head of the queue.
      e.table->ReleaseAll(w.pool);
      e.table.reset();
      break;
    }
    e.request.set_num_cached(shared);
    ACCLLM_SCHED_INVARIANT(e.request.TransitionTo(RequestState::kPrefilling).ok());
    EraseId(w.waiting, id);
    w.running.push_back(id);
    ctx.order.push_back(id);
    AddChunk(ctx, e, n);
  }
}

}  // namespace accllm::scheduler
