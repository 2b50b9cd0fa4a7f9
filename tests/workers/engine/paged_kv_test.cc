// Λ attention is exact: the paged implementation (pages recycled as they leave
// the window, any chunking) equals a naive masked-attention reference written
// here independently, and equals dense attention when the window covers everything.
#include "workers/engine/paged_kv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/ring_pager.h"
#include "tests/support/test_env.h"
#include "workers/engine/kv_cache.h"
#include "workers/engine/llama_model.h"

namespace accllm {
namespace {

// Keeps every raw key; for each query applies the Λ mask and the sink rotation
// rule literally: sink j at max(S, t−W+1) − S + j, other keys at their own position.
class NaiveMaskedKv : public SequenceKv {
 public:
  NaiveMaskedKv(const ModelConfig& c, bool dense, int s, int w)
      : c_(c), dense_(dense), s_(s), w_(w), keys_(c.n_layers), values_(c.n_layers) {}
  absl::Status CheckWritable(int64_t) const override { return absl::OkStatus(); }
  void Store(int32_t layer, int64_t pos, std::span<const float> k,
             std::span<const float> v) override {
    keys_[layer].resize((pos + 1) * c_.kv_dim());
    values_[layer].resize((pos + 1) * c_.kv_dim());
    std::copy(k.begin(), k.end(), keys_[layer].begin() + pos * c_.kv_dim());
    std::copy(v.begin(), v.end(), values_[layer].begin() + pos * c_.kv_dim());
  }
  void Attend(int32_t layer, int64_t t, std::span<const float> q,
              std::span<float> out) const override {
    const int hd = c_.head_dim(), half = hd / 2, group = c_.n_heads / c_.n_kv_heads;
    for (int h = 0; h < c_.n_heads; ++h) {
      std::vector<double> scores;
      std::vector<int64_t> visible;
      for (int64_t p = 0; p <= t; ++p) {
        const bool is_sink = !dense_ && p < s_;
        const bool in_window = dense_ || (p > t - w_ && p <= t);
        if (!is_sink && !in_window) continue;
        const int64_t rope_pos =
            is_sink ? std::max<int64_t>(s_, t - w_ + 1) - s_ + p : p;
        const float* raw = keys_[layer].data() + p * c_.kv_dim() + (h / group) * hd;
        double dot = 0;
        for (int j = 0; j < half; ++j) {
          const double angle = rope_pos * std::pow(c_.rope_theta, -2.0 * j / hd);
          const float cs = static_cast<float>(std::cos(angle)), sn = static_cast<float>(std::sin(angle));
          const float a = raw[j] * cs - raw[j + half] * sn;
          const float b = raw[j] * sn + raw[j + half] * cs;
          dot += double(q[h * hd + j]) * a + double(q[h * hd + j + half]) * b;
        }
        scores.push_back(dot / std::sqrt(double(hd)));
        visible.push_back(p);
      }
      double max = -1e300, sum = 0;
      for (double sc : scores) max = std::max(max, sc);
      for (double& sc : scores) sum += (sc = std::exp(sc - max));
      for (int d = 0; d < hd; ++d) {
        double acc = 0;
        for (size_t i = 0; i < visible.size(); ++i) {
          acc += scores[i] / sum * values_[layer][visible[i] * c_.kv_dim() + (h / group) * hd + d];
        }
        out[h * hd + d] = static_cast<float>(acc);
      }
    }
  }

 private:
  ModelConfig c_;
  bool dense_;
  int s_, w_;
  std::vector<std::vector<float>> keys_, values_;
};

std::unique_ptr<LlamaModel> LoadRandom(const testing::TempDir& tmp, int seq_len) {
  testing::Llama2cShape shape;
  shape.seq_len = seq_len;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 21, 0.3f);
  EXPECT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "m", {}).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp / "m");
  EXPECT_TRUE(dir.ok()) << dir.status();
  return *LlamaModel::Load(*dir);
}

std::vector<int32_t> Tokens(int n, int vocab) {
  std::vector<int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 7919 + 13) % vocab;
  return t;
}

// Runs `tokens` through paged Λ attention in chunks of `chunk`; returns the
// logits after every token.
std::vector<std::vector<float>> RunPaged(const LlamaModel& model, std::span<const int32_t> tokens,
                                         AttentionWindow w, int32_t page_size, int chunk,
                                         size_t* max_pages = nullptr) {
  const ModelConfig& c = model.config();
  PagedKvStore store(c, 64, page_size);
  testing::RingPager pager(64, page_size, w);
  std::vector<std::vector<float>> all;
  for (int64_t begin = 0; begin < static_cast<int64_t>(tokens.size()); begin += chunk) {
    const int64_t end = std::min<int64_t>(begin + chunk, tokens.size());
    PagedSequenceKv kv(c, store, *pager.PagesForChunk(begin, end), w);
    for (int64_t pos = begin; pos < end; ++pos) {
      std::vector<float> logits(c.vocab_size);
      absl::Status s = model.Forward(tokens[pos], pos, kv, logits);
      EXPECT_TRUE(s.ok()) << s;
      all.push_back(std::move(logits));
    }
  }
  if (max_pages) *max_pages = pager.max_pages_held();
  return all;
}

std::vector<std::vector<float>> RunWith(const LlamaModel& model, std::span<const int32_t> tokens,
                                        SequenceKv& kv) {
  std::vector<std::vector<float>> all;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    std::vector<float> logits(model.config().vocab_size);
    EXPECT_TRUE(model.Forward(tokens[pos], pos, kv, logits).ok());
    all.push_back(std::move(logits));
  }
  return all;
}

void ExpectClose(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b,
                 float rel) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    for (size_t i = 0; i < a[t].size(); ++i) {
      ASSERT_NEAR(a[t][i], b[t][i], rel * (1.0f + std::abs(b[t][i]))) << "pos " << t << " id " << i;
    }
  }
}

struct LambdaCase {
  int sinks, window, page, chunk;
};

void PrintTo(const LambdaCase& c, std::ostream* os) {
  *os << "S" << c.sinks << "_W" << c.window << "_P" << c.page << "_chunk" << c.chunk;
}

class LambdaExactTest : public ::testing::TestWithParam<LambdaCase> {};

TEST_P(LambdaExactTest, PagedChunkedEqualsNaiveMaskedReference) {
  testing::TempDir tmp;
  std::unique_ptr<LlamaModel> model = LoadRandom(tmp, 512);
  const LambdaCase& p = GetParam();
  const std::vector<int32_t> tokens = Tokens(180, model->config().vocab_size);
  const AttentionWindow w = AttentionWindow::Lambda(p.sinks, p.window);
  size_t max_pages = 0;
  auto paged = RunPaged(*model, tokens, w, p.page, p.chunk, &max_pages);
  NaiveMaskedKv naive(model->config(), false, p.sinks, p.window);
  ExpectClose(paged, RunWith(*model, tokens, naive), 1e-4f);
  // ceil(S/P) + W/P + 1, plus the pages a chunk adds ahead of its queries.
  const size_t bound = (p.sinks + p.page - 1) / p.page + p.window / p.page + 1 +
                       (p.chunk + p.page - 1) / p.page;
  EXPECT_LE(max_pages, bound);
}

INSTANTIATE_TEST_SUITE_P(Cases, LambdaExactTest,
                         ::testing::Values(LambdaCase{4, 32, 8, 1}, LambdaCase{4, 32, 8, 5},
                                           LambdaCase{4, 32, 8, 64}, LambdaCase{1, 16, 4, 3},
                                           LambdaCase{0, 24, 8, 7}, LambdaCase{8, 40, 16, 16},
                                           LambdaCase{3, 17, 5, 2}),
                         [](const auto& info) {
                           std::ostringstream name;
                           PrintTo(info.param, &name);
                           return name.str();
                         });

TEST(LambdaAttentionTest, WindowCoveringEverythingEqualsDense) {
  testing::TempDir tmp;
  std::unique_ptr<LlamaModel> model = LoadRandom(tmp, 512);
  const std::vector<int32_t> tokens = Tokens(100, model->config().vocab_size);
  KvCache dense(model->config(), 100);
  auto reference = RunWith(*model, tokens, dense);
  ExpectClose(RunPaged(*model, tokens, AttentionWindow::Lambda(4, 128), 16, 9), reference, 1e-6f);
  ExpectClose(RunPaged(*model, tokens, AttentionWindow::Dense(), 16, 13), reference, 1e-6f);
}

TEST(LambdaAttentionTest, Stories260KPagedEqualsNaiveAndDense) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  testing::TempDir tmp;
  ASSERT_TRUE(ImportLlama2c(dir / "stories260K.bin", tmp / "m", {}).ok());
  absl::StatusOr<ModelDir> model_dir = OpenModelDir(tmp / "m");
  ASSERT_TRUE(model_dir.ok());
  std::unique_ptr<LlamaModel> model = *LlamaModel::Load(*model_dir);
  std::vector<int32_t> tokens = Tokens(300, 512);
  tokens[0] = 1;
  NaiveMaskedKv naive(model->config(), false, 4, 64);
  ExpectClose(RunPaged(*model, tokens, AttentionWindow::Lambda(4, 64), 16, 37),
              RunWith(*model, tokens, naive), 1e-4f);
  KvCache dense(model->config(), 300);
  ExpectClose(RunPaged(*model, tokens, AttentionWindow::Lambda(4, 512), 16, 64),
              RunWith(*model, tokens, dense), 1e-6f);
}

TEST(LambdaAttentionTest, MissingPageIsAnErrorNotACrash) {
  testing::TempDir tmp;
  std::unique_ptr<LlamaModel> model = LoadRandom(tmp, 64);
  PagedKvStore store(model->config(), 4, 8);
  std::vector<float> logits(model->config().vocab_size);
  PagedSequenceKv no_pages(model->config(), store, {}, AttentionWindow::Lambda(4, 16));
  absl::Status s = model->Forward(1, 0, no_pages, logits);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("position 0"));
  // The window of a query at 40 needs positions 25..40, i.e. pages 3, 4 and 5.
  PagedSequenceKv gap(model->config(), store, {{0, 0}, {5, 1}}, AttentionWindow::Lambda(4, 16));
  EXPECT_EQ(model->Forward(1, 40, gap, logits).code(), absl::StatusCode::kFailedPrecondition);
  PagedSequenceKv outside(model->config(), store, {{0, 9}}, AttentionWindow::Lambda(4, 16));
  EXPECT_EQ(model->Forward(1, 0, outside, logits).code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace accllm
