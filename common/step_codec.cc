#include "common/step_codec.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/attention_window_check.h"  // ValidateAttentionWindow

namespace accllm {

void EncodeAttention(const AttentionWindow& window, v1::AttentionOptions* out) {
  if (window.dense) {
    out->mutable_dense();
  } else {
    out->mutable_lambda()->set_sinks(window.sinks);
    out->mutable_lambda()->set_window(window.window);
  }
}

AttentionWindow DecodeAttention(const v1::AttentionOptions& in, const AttentionWindow& fallback) {
  switch (in.kind_case()) {
    case v1::AttentionOptions::kDense:
      return AttentionWindow::Dense();
    case v1::AttentionOptions::kLambda:
      return AttentionWindow::Lambda(in.lambda().sinks(), in.lambda().window());
    case v1::AttentionOptions::KIND_NOT_SET:
      break;
  }
  return fallback;
}

void EncodeStep(const scheduler::StepBatch& batch, const std::string& model, int64_t version,
                v1::StepRequest* out) {
  out->set_model(model);
  out->set_version(version);
  out->set_page_tokens(batch.chunks.empty() ? 0 : batch.chunks.front().page_size);
  for (const scheduler::SequenceChunk& c : batch.chunks) {
    v1::SequenceChunk* p = out->add_chunks();
    p->set_sequence_id(c.request_id);
    p->mutable_tokens()->Add(c.tokens.begin(), c.tokens.end());
    p->set_first_position(c.first_position);
    for (const scheduler::PageRef& page : c.pages) {
      v1::PageRef* r = p->add_pages();
      r->set_logical(page.logical);
      r->set_physical(page.physical);
    }
    for (const scheduler::PageCopy& copy : c.page_copies) {
      v1::PageCopy* r = p->add_copies();
      r->set_from(copy.from);
      r->set_to(copy.to);
    }
    EncodeAttention(c.attention, p->mutable_attention());
    p->set_sample(c.sample);
    if (c.sample) {
      p->mutable_sampling()->set_temperature(c.sampling.temperature);
      p->mutable_sampling()->set_top_k(c.sampling.top_k);
      p->mutable_sampling()->set_top_p(c.sampling.top_p);
      p->mutable_sampling()->set_seed(c.sampling.seed);
      p->set_sample_index(c.sample_position);
    }
  }
}

namespace {

absl::Status ChunkError(int index, uint64_t id, std::string what) {
  return absl::InvalidArgumentError(
      absl::StrCat("step chunk ", index, " (sequence ", id, "): ", what));
}

absl::Status CheckPage(int32_t page, int32_t num_pages) {
  if (page < 0 || page >= num_pages) {
    return absl::InvalidArgumentError(
        absl::StrCat("physical page ", page, " is outside the pool [0, ", num_pages, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<scheduler::SequenceChunk> DecodeChunk(const v1::SequenceChunk& p,
                                                     const StepLimits& limits) {
  scheduler::SequenceChunk c;
  c.request_id = p.sequence_id();
  if (p.tokens().empty()) return absl::InvalidArgumentError("tokens is empty");
  for (int32_t t : p.tokens()) {
    if (t < 0 || t >= limits.vocab_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("token ", t, " is outside the vocabulary [0, ", limits.vocab_size, ")"));
    }
  }
  c.tokens.assign(p.tokens().begin(), p.tokens().end());
  if (p.first_position() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_position ", p.first_position(), " is negative"));
  }
  // The sampled position (first_position + tokens) must be an int64 too.
  if (p.first_position() > std::numeric_limits<int64_t>::max() - p.tokens_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_position ", p.first_position(), " + ", p.tokens_size(),
                     " tokens overflows the position range"));
  }
  c.first_position = p.first_position();
  int64_t previous = -1;
  for (const v1::PageRef& r : p.pages()) {
    if (r.logical() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("logical page ", r.logical(), " is negative"));
    }
    if (r.logical() <= previous) {
      return absl::InvalidArgumentError("pages must be sorted by logical index, without repeats");
    }
    previous = r.logical();
    if (absl::Status s = CheckPage(r.physical(), limits.num_pages); !s.ok()) return s;
    c.pages.push_back({r.logical(), r.physical()});
  }
  for (const v1::PageCopy& r : p.copies()) {
    if (absl::Status s = CheckPage(r.from(), limits.num_pages); !s.ok()) return s;
    if (absl::Status s = CheckPage(r.to(), limits.num_pages); !s.ok()) return s;
    if (r.from() == r.to()) {
      return absl::InvalidArgumentError(
          absl::StrCat("page copy ", r.from(), " → ", r.to(), " copies a page onto itself"));
    }
    c.page_copies.push_back({r.from(), r.to()});
  }
  if (p.attention().kind_case() == v1::AttentionOptions::KIND_NOT_SET) {
    return absl::InvalidArgumentError("attention is unset");
  }
  c.attention = DecodeAttention(p.attention(), {});
  if (absl::Status s = ValidateAttentionWindow(c.attention); !s.ok()) return s;
  c.page_size = limits.page_size;
  c.sample = p.sample();
  if (c.sample) {
    const v1::SamplingParams& s = p.sampling();
    if (!(s.temperature() >= 0.0f && s.temperature() <= 100.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sampling.temperature ", s.temperature(), " is outside [0, 100]"));
    }
    if (s.top_k() < 0) return absl::InvalidArgumentError("sampling.top_k is negative");
    if (!(s.top_p() >= 0.0f && s.top_p() <= 1.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sampling.top_p ", s.top_p(), " is outside (0, 1]"));
    }
    c.sampling.temperature = s.temperature();
    c.sampling.top_k = s.top_k();
    c.sampling.top_p = s.top_p() == 0.0f ? 1.0f : s.top_p();
    c.sampling.seed = s.seed();
    c.sample_position = c.first_position + static_cast<int64_t>(c.tokens.size());
    if (p.sample_index() != c.sample_position) {
      return absl::InvalidArgumentError(absl::StrCat("sample_index ", p.sample_index(),
                                                     " is not the position after the chunk (",
                                                     c.sample_position, ")"));
    }
  }
  return c;
}

}  // namespace

absl::StatusOr<scheduler::StepBatch> DecodeStep(const v1::StepRequest& in, const StepLimits& limits) {
  if (in.page_tokens() != limits.page_size) {
    return absl::InvalidArgumentError(absl::StrCat("page_tokens ", in.page_tokens(),
                                                   " differs from the pool's ", limits.page_size));
  }
  scheduler::StepBatch batch;
  batch.chunks.reserve(in.chunks_size());
  for (int i = 0; i < in.chunks_size(); ++i) {
    absl::StatusOr<scheduler::SequenceChunk> c = DecodeChunk(in.chunks(i), limits);
    if (!c.ok()) return ChunkError(i, in.chunks(i).sequence_id(), std::string(c.status().message()));
    batch.chunks.push_back(*std::move(c));
  }
  return batch;
}

void EncodeStepOutput(const scheduler::StepOutput& output, v1::StepResponse* out) {
  for (const scheduler::SampledToken& t : output.tokens) {
    v1::StepResponse::Sampled* s = out->add_sampled();
    s->set_sequence_id(t.request_id);
    s->set_token(t.token);
  }
}

absl::StatusOr<scheduler::StepOutput> DecodeStepOutput(const v1::StepResponse& in,
                                                       const scheduler::StepBatch& batch,
                                                       int32_t vocab_size) {
  int asked = 0;
  for (const scheduler::SequenceChunk& c : batch.chunks) asked += c.sample ? 1 : 0;
  if (in.sampled_size() != asked) {
    return absl::DataLossError(absl::StrCat("the worker returned ", in.sampled_size(),
                                            " tokens, ", in.sampled_size() < asked ? "fewer" : "more",
                                            " than the ", asked, " asked"));
  }
  scheduler::StepOutput out;
  out.step_id = batch.step_id;
  int next = 0;
  for (const scheduler::SequenceChunk& c : batch.chunks) {
    if (!c.sample) continue;
    const v1::StepResponse::Sampled& s = in.sampled(next++);
    if (s.sequence_id() != c.request_id) {
      return absl::DataLossError(absl::StrCat("the worker returned token ", s.token(),
                                              " for sequence ", s.sequence_id(), " where sequence ",
                                              c.request_id, " was expected"));
    }
    if (s.token() < 0 || s.token() >= vocab_size) {
      return absl::DataLossError(absl::StrCat("the worker's token ", s.token(), " for sequence ",
                                              c.request_id, " is outside the vocabulary [0, ",
                                              vocab_size, ")"));
    }
    out.tokens.push_back({c.request_id, s.token()});
  }
  return out;
}

}  // namespace accllm
