// Test doubles for the scheduler: a tiny deterministic "language model" worker
// and a harness that records what clients see.
//
// FakeLmWorker keeps a page store like a real worker's KV pool, but each slot
// holds (position, token) instead of K/V. The next token is a hash of exactly
// the (position, token) pairs the sampling query may attend to, read back
// through the chunk's page table. So a wrong page table, a page released too
// early, a missed copy-on-write or a page shared by two writers changes the
// tokens, and the slot's position tag reports it in `errors()`.
// ReferenceTokens() computes the same function straight from the token list,
// one request alone, with no pages at all.
#ifndef ACCLLM_TESTS_SCHEDULER_FAKE_LM_WORKER_H_
#define ACCLLM_TESTS_SCHEDULER_FAKE_LM_WORKER_H_

#include <algorithm>  // std::max, std::equal
#include <cstdint>    // int32_t, int64_t, uint64_t
#include <map>        // std::map
#include <optional>   // std::optional
#include <set>        // std::set
#include <string>     // std::string
#include <vector>     // std::vector

#include "absl/status/status.h"        // absl::UnavailableError
#include "absl/status/statusor.h"      // absl::StatusOr
#include "absl/strings/str_cat.h"      // absl::StrCat
#include "scheduler/attention_spec.h"  // AttentionSpec
#include "scheduler/request_types.h"   // SamplingParams, RequestParams
#include "scheduler/stop_rules.h"      // StopRules
#include "scheduler/worker.h"          // Worker, StepBatch, StepOutput

namespace accllm::scheduler::testing {

inline uint64_t Mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Visible {
  int64_t position;
  int32_t token;
};

// The fake model: greedy depends only on what the query sees; sampling adds
// (seed, position), like a worker RNG seeded per sampled position.
inline int32_t NextToken(const std::vector<Visible>& visible, const SamplingParams& sampling,
                         int64_t sample_position, int32_t vocab) {
  uint64_t h = 0x1234567;
  for (const Visible& v : visible) h = Mix(Mix(h, static_cast<uint64_t>(v.position)), v.token);
  if (sampling.temperature > 0) h = Mix(Mix(h, sampling.seed), sample_position);
  return static_cast<int32_t>(h % static_cast<uint64_t>(vocab));
}

// `n` tokens generated after `prompt` by the fake model, run alone.
inline std::vector<int32_t> ReferenceTokens(const std::vector<int32_t>& prompt,
                                            const AttentionSpec& attention,
                                            const SamplingParams& sampling, int64_t n,
                                            int32_t vocab) {
  std::vector<int32_t> tokens = prompt;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = static_cast<int64_t>(tokens.size()) - 1;
    std::vector<Visible> visible;
    for (int64_t p = 0; p <= t; ++p) {
      if (!attention.Attends(t, p)) {
        p = std::max(p, t - attention.window);  // skip the gap quickly
        continue;
      }
      visible.push_back({p, tokens[p]});
    }
    tokens.push_back(NextToken(visible, sampling, t + 1, vocab));
  }
  return {tokens.begin() + static_cast<int64_t>(prompt.size()), tokens.end()};
}

// What a client should see for `params` run alone: tokens streamed and the
// finish reason. Stop handling is written independently of StopRules.
struct ExpectedStream {
  std::vector<int32_t> tokens;
  FinishReason reason = FinishReason::kLength;
  int64_t generated = 0;
};

inline ExpectedStream Expect(const RequestParams& params, const AttentionSpec& attention,
                             int32_t vocab) {
  const std::vector<int32_t> gen =
      ReferenceTokens(params.prompt, attention, params.sampling, params.max_tokens, vocab);
  ExpectedStream out;
  for (size_t i = 0; i < gen.size(); ++i) {
    for (int32_t stop : params.stop_token_ids) {
      if (gen[i] == stop) {
        out.tokens.assign(gen.begin(), gen.begin() + i);
        out.reason = FinishReason::kStop;
        out.generated = static_cast<int64_t>(i) + 1;
        return out;
      }
    }
    size_t longest = 0;
    for (const std::vector<int32_t>& seq : params.stop_sequences) {
      if (seq.size() > i + 1 || seq.size() <= longest) continue;
      if (std::equal(seq.begin(), seq.end(), gen.begin() + (i + 1 - seq.size()))) {
        longest = seq.size();
      }
    }
    if (longest > 0) {
      out.tokens.assign(gen.begin(), gen.begin() + (i + 1 - longest));
      out.reason = FinishReason::kStop;
      out.generated = static_cast<int64_t>(i) + 1;
      return out;
    }
  }
  out.tokens = gen;
  out.generated = static_cast<int64_t>(gen.size());
  return out;
}

class FakeLmWorker : public Worker {
 public:
  FakeLmWorker(int32_t num_pages, int32_t page_size, int32_t vocab)
      : page_size_(page_size), vocab_(vocab), pages_(num_pages, std::vector<Slot>(page_size)) {}

  // The `n`-th step (0-based) and every later one fail: the worker died.
  void FailAtStep(int64_t n) { fail_at_ = n; }

  absl::StatusOr<StepOutput> Step(const StepBatch& batch) override {
    if (fail_at_.has_value() && steps_ >= *fail_at_) {
      return absl::UnavailableError("fake worker died");
    }
    ++steps_;
    CheckExclusiveWrites(batch);
    StepOutput out;
    out.step_id = batch.step_id;
    for (const SequenceChunk& c : batch.chunks) {
      if (c.page_size != page_size_) Error("page size mismatch");
      for (const PageCopy& copy : c.page_copies) pages_[copy.to] = pages_[copy.from];
      for (size_t i = 0; i < c.tokens.size(); ++i) {
        const int64_t pos = c.first_position + static_cast<int64_t>(i);
        const int32_t page = Lookup(c, pos);
        if (page >= 0) pages_[page][pos % page_size_] = {pos, c.tokens[i]};
        fed_[c.request_id].push_back(pos);
      }
      // The chunk's first query reads the oldest positions; its last one the
      // newest. Both must find every visible position intact.
      std::vector<Visible> first = Read(c, c.first_position);
      std::vector<Visible> last =
          Read(c, c.first_position + static_cast<int64_t>(c.tokens.size()) - 1);
      if (c.sample) {
        if (c.sample_position != c.first_position + static_cast<int64_t>(c.tokens.size())) {
          Error("sample_position is not the position after the chunk");
        }
        out.tokens.push_back(
            {c.request_id, NextToken(last, c.sampling, c.sample_position, vocab_)});
      }
    }
    return out;
  }

  const std::vector<std::string>& errors() const { return errors_; }
  // Positions fed per request, in order (recomputes feed them again).
  const std::map<RequestId, std::vector<int64_t>>& fed() const { return fed_; }
  int64_t steps() const { return steps_; }

 private:
  struct Slot {
    int64_t position = -1;
    int32_t token = -1;
  };

  void Error(std::string message) {
    if (errors_.size() < 20) errors_.push_back(std::move(message));
  }

  int32_t Lookup(const SequenceChunk& c, int64_t pos) {
    const int64_t logical = pos / page_size_;
    for (const PageRef& ref : c.pages) {
      if (ref.logical == logical) return ref.physical;
    }
    Error(absl::StrCat("request ", c.request_id, ": no page for position ", pos));
    return -1;
  }

  std::vector<Visible> Read(const SequenceChunk& c, int64_t t) {
    std::vector<Visible> visible;
    for (int64_t p = 0; p <= t; ++p) {
      if (!c.attention.Attends(t, p)) {
        p = std::max(p, t - c.attention.window);
        continue;
      }
      const int32_t page = Lookup(c, p);
      if (page < 0) return visible;
      const Slot& slot = pages_[page][p % page_size_];
      if (slot.position != p) {
        Error(absl::StrCat("request ", c.request_id, ": position ", p, " of page ", page,
                           " holds position ", slot.position));
      }
      visible.push_back({p, slot.token});
    }
    return visible;
  }

  // A page written by one chunk must not be in any other chunk's table of the
  // same step (it would be read or written by two sequences at once).
  void CheckExclusiveWrites(const StepBatch& batch) {
    std::map<int32_t, RequestId> written;
    for (const SequenceChunk& c : batch.chunks) {
      std::set<int64_t> logicals;
      for (size_t i = 0; i < c.tokens.size(); ++i) {
        logicals.insert((c.first_position + static_cast<int64_t>(i)) / page_size_);
      }
      for (const PageRef& ref : c.pages) {
        if (logicals.count(ref.logical)) written[ref.physical] = c.request_id;
      }
      for (const PageCopy& copy : c.page_copies) written[copy.to] = c.request_id;
    }
    for (const SequenceChunk& c : batch.chunks) {
      for (const PageRef& ref : c.pages) {
        auto it = written.find(ref.physical);
        if (it != written.end() && it->second != c.request_id) {
          Error(absl::StrCat("page ", ref.physical, " written by request ", it->second,
                             " is also in request ", c.request_id, "'s table"));
        }
      }
    }
  }

  int32_t page_size_;
  int32_t vocab_;
  std::vector<std::vector<Slot>> pages_;
  std::optional<int64_t> fail_at_;
  int64_t steps_ = 0;
  std::vector<std::string> errors_;
  std::map<RequestId, std::vector<int64_t>> fed_;
};

}  // namespace accllm::scheduler::testing

#endif  // ACCLLM_TESTS_SCHEDULER_FAKE_LM_WORKER_H_
