#include "client/eval/evaluation.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>  // nlohmann::json

#include "absl/strings/numbers.h"      // absl::SimpleAtoi
#include "absl/strings/str_cat.h"      // absl::StrCat
#include "absl/strings/str_split.h"    // absl::StrSplit
#include "workers/engine/kv_factory.h"  // MakeSequenceKv, MakeKvPagePool
#include "workers/backend/sampler.h"    // Sampler

namespace accllm {

namespace {

// Continues `stream` by sampling until it holds `length` tokens or, when
// `stop_at_eos`, the model emits a stop token. Dense cache, temperature 1.
absl::Status SampleInto(const LlamaModel& model, Sampler& sampler, int64_t length,
                        bool stop_at_eos, std::vector<int32_t>& stream) {
  const ModelConfig& c = model.config();
  std::unique_ptr<SequenceKv> cache = MakeSequenceKv(model, static_cast<int32_t>(length));
  std::vector<float> logits(c.vocab_size);
  const size_t start = stream.size();
  stream.push_back(c.bos_token_id);
  for (int64_t pos = 0; static_cast<int64_t>(stream.size() - start) < length; ++pos) {
    if (absl::Status s = model.Forward(stream.back(), pos, *cache, logits); !s.ok()) return s;
    const int32_t next = sampler.Sample(logits);
    if (stop_at_eos && std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), next) !=
                           c.eos_token_ids.end()) {
      break;
    }
    stream.push_back(next);
  }
  return absl::OkStatus();
}

double LogSumExp(std::span<const float> x) {
  const float max = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (float v : x) sum += std::exp(double(v) - max);
  return max + std::log(sum);
}

}  // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>> SampleStreams(const LlamaModel& model,
                                                                int32_t count, int32_t length,
                                                                uint64_t seed) {
  if (count <= 0) return absl::InvalidArgumentError("--streams must be positive");
  if (length < 2 || length > model.config().max_seq_len) {
    return absl::InvalidArgumentError(absl::StrCat("--length must be in [2, ",
                                                   model.config().max_seq_len,
                                                   "] (the reference's trained context), got ",
                                                   length));
  }
  std::vector<std::vector<int32_t>> streams(count);
  for (int32_t i = 0; i < count; ++i) {
    Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed * 1000003 + i});
    if (absl::Status s = SampleInto(model, sampler, length, false, streams[i]); !s.ok()) return s;
  }
  return streams;
}

absl::StatusOr<std::vector<int32_t>> SampleConcatenatedStream(const LlamaModel& model,
                                                              int64_t length, uint64_t seed) {
  if (length < 2) return absl::InvalidArgumentError("--stream-length must be at least 2");
  std::vector<int32_t> stream;
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed});
  while (static_cast<int64_t>(stream.size()) < length) {
    const int64_t room = std::min<int64_t>(model.config().max_seq_len,
                                           length - static_cast<int64_t>(stream.size()));
    if (absl::Status s = SampleInto(model, sampler, room, true, stream); !s.ok()) return s;
  }
  return stream;
}

absl::StatusOr<std::vector<int32_t>> ReadStreamFile(const std::string& path, int32_t vocab_size) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open stream file ", path));
  std::vector<int32_t> ids;
  for (std::string item; in >> item;) {
    int32_t id;
    if (!absl::SimpleAtoi(item, &id) || id < 0 || id >= vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": item ", ids.size() + 1, " \"", item,
                                                     "\" is not a token id in [0, ", vocab_size,
                                                     ")"));
    }
    ids.push_back(id);
  }
  if (ids.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a stream needs at least 2 tokens"));
  }
  return ids;
}

absl::StatusOr<AttentionWindow> ParseAttention(const std::string& text) {
  if (text == "dense") return AttentionWindow::Dense();
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--attention must be dense, window:W or lambda:S,W with W >= 1, got \"", text, "\""));
  };
  int32_t s = 0, w = 0;
  if (text.rfind("window:", 0) == 0) {
    if (!absl::SimpleAtoi(text.substr(7), &w) || w < 1) return bad();
    return AttentionWindow::Lambda(0, w);
  }
  if (text.rfind("lambda:", 0) == 0) {
    std::vector<std::string> parts = absl::StrSplit(text.substr(7), ',');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &s) || !absl::SimpleAtoi(parts[1], &w) ||
        s < 0 || w < 1) {
      return bad();
    }
    return AttentionWindow::Lambda(s, w);
  }
  return bad();
}

absl::StatusOr<EvalReport> Evaluate(const LlamaModel& model, const LlamaModel& reference,
                                    const std::vector<std::vector<int32_t>>& streams,
                                    const EvalOptions& options) {
  const ModelConfig& c = model.config();
  if (c.vocab_size != reference.config().vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the model's vocabulary (", c.vocab_size,
                                                   ") differs from the reference's (",
                                                   reference.config().vocab_size, ")"));
  }
  EvalReport report;
  report.bits_per_weight = model.LinearBitsPerWeight();
  double kl = 0, nll = 0, nll_ref = 0;
  int64_t agree = 0;
  std::vector<double> seg_sum;
  std::vector<int64_t> seg_count;
  std::vector<float> logits(c.vocab_size), ref_logits(c.vocab_size);
  for (const std::vector<int32_t>& stream : streams) {
    const int64_t n = static_cast<int64_t>(stream.size());
    std::unique_ptr<SequenceKv> ref_cache = MakeSequenceKv(reference, static_cast<int32_t>(n));
    std::unique_ptr<SequenceKv> dense;
    std::unique_ptr<KvPagePool> store;
    std::unique_ptr<SequencePager> pager;
    if (options.make_pager) {
      store = MakeKvPagePool(model, options.num_pages, options.page_size);
      pager = options.make_pager();
    } else {
      dense = MakeSequenceKv(model, static_cast<int32_t>(n));
    }
    for (int64_t begin = 0; begin < n - 1; begin += options.chunk) {
      const int64_t end = std::min<int64_t>(begin + options.chunk, n - 1);
      std::unique_ptr<SequenceKv> paged;
      if (pager) {
        absl::StatusOr<std::vector<PageRef>> pages = pager->PagesForChunk(begin, end);
        if (!pages.ok()) return pages.status();
        paged = store->Sequence(*std::move(pages), options.attention);
      }
      SequenceKv& kv = paged ? *paged : *dense;
      for (int64_t pos = begin; pos < end; ++pos) {
        if (absl::Status s = model.Forward(stream[pos], pos, kv, logits); !s.ok()) return s;
        if (absl::Status s = reference.Forward(stream[pos], pos, *ref_cache, ref_logits); !s.ok()) {
          return s;
        }
        const int32_t next = stream[pos + 1];
        const double lse = LogSumExp(logits), ref_lse = LogSumExp(ref_logits);
        double token_kl = 0;
        for (int32_t i = 0; i < c.vocab_size; ++i) {
          const double lp_ref = ref_logits[i] - ref_lse;
          token_kl += std::exp(lp_ref) * (lp_ref - (logits[i] - lse));
        }
        kl += token_kl;
        nll += lse - logits[next];
        nll_ref += ref_lse - ref_logits[next];
        agree += Argmax(logits) == Argmax(ref_logits);
        const size_t seg = static_cast<size_t>((pos + 1) / options.segment);
        if (seg >= seg_sum.size()) {
          seg_sum.resize(seg + 1);
          seg_count.resize(seg + 1);
        }
        seg_sum[seg] += lse - logits[next];
        ++seg_count[seg];
        ++report.tokens;
      }
    }
    if (pager) report.max_pages_per_sequence = std::max(report.max_pages_per_sequence, pager->max_pages_held());
  }
  if (report.tokens == 0) return absl::InvalidArgumentError("no tokens to evaluate");
  const double n = static_cast<double>(report.tokens);
  report.kl_mean = kl / n;
  report.top1_agreement = agree / n;
  report.nll_model = nll / n;
  report.nll_reference = nll_ref / n;
  for (size_t i = 0; i < seg_sum.size(); ++i) {
    report.nll_by_segment.push_back(seg_count[i] ? seg_sum[i] / seg_count[i] : 0.0);
  }
  return report;
}

std::string EvalReportToJson(const EvalReport& r) {
  nlohmann::json j = {{"tokens", r.tokens},
                      {"kl_mean", r.kl_mean},
                      {"top1_agreement", r.top1_agreement},
                      {"nll_model", r.nll_model},
                      {"nll_reference", r.nll_reference},
                      {"bits_per_weight", r.bits_per_weight},
                      {"nll_by_segment", r.nll_by_segment},
                      {"max_pages_per_sequence", r.max_pages_per_sequence}};
  return j.dump();
}

}  // namespace accllm
