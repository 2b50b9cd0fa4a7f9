#include "model/tokenizer/llama2c_tokenizer.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <queue>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"        // absl::StrCat
#include "model/tokenizer/byte_piece.h"  // accllm::ParseBytePiece, accllm::BytePieceName

namespace accllm {
namespace {

namespace fs = std::filesystem;

// A tokenizer.bin is a few MB at most; refuse to slurp anything absurd.
constexpr uintmax_t kMaxFileBytes = uintmax_t{1} << 30;
constexpr size_t kRecordHeaderBytes = 8;  // float32 score + int32 len
// run.c starts its best score here, so pairs scoring at or below it never merge.
constexpr float kNoMergeScore = -1e10f;

uint32_t ReadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// ErrnoToStatus(0, ...) would be OK; a failed stream does not always set errno.
absl::Status WriteError(std::string_view what, const fs::path& path) {
  const std::string message = absl::StrCat(std::string(what), " ", path.string());
  return errno != 0 ? absl::ErrnoToStatus(errno, message) : absl::InternalError(message);
}

}  // namespace

Llama2cTokenizer::Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores)
    : pieces_(std::move(pieces)), scores_(std::move(scores)) {
  const int32_t n = vocab_size();
  silent_.assign(n, false);
  if (n > kBosId) silent_[kBosId] = true;
  if (n > kEosId) silent_[kEosId] = true;
  if (pieces_[kUnkId] == "<unk>") silent_[kUnkId] = true;
  ids_.reserve(n);
  for (int32_t id = 0; id < n; ++id) {
    ids_.try_emplace(pieces_[id], id);  // the first of duplicates wins, as in run.c
    max_token_length_ = std::max(max_token_length_, static_cast<int32_t>(pieces_[id].size()));
  }
  has_byte_fallback_ = n >= kFirstBytePieceId + 256;
  for (int b = 0; b < 256 && has_byte_fallback_; ++b) {
    has_byte_fallback_ = ParseBytePiece(pieces_[kFirstBytePieceId + b]) == b;
  }
}

absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Llama2cTokenizer::Create(
    std::vector<std::string> pieces, std::vector<float> scores) {
  if (pieces.empty()) return absl::InvalidArgumentError("a llama2.c vocabulary needs pieces");
  if (pieces.size() != scores.size()) {
    return absl::InvalidArgumentError(absl::StrCat("llama2.c vocabulary has ", pieces.size(),
                                                   " pieces but ", scores.size(), " scores"));
  }
  if (pieces.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError("llama2.c vocabulary has more than 2^31-1 pieces");
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].size() > static_cast<size_t>(kMaxPieceBytes)) {
      return absl::InvalidArgumentError(absl::StrCat("piece ", i, " is ", pieces[i].size(),
                                                     " bytes; the limit is ", kMaxPieceBytes));
    }
  }
  return std::unique_ptr<Llama2cTokenizer>(
      new Llama2cTokenizer(std::move(pieces), std::move(scores)));
}

int32_t Llama2cTokenizer::Lookup(const std::string& piece) const {
  auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

absl::StatusOr<std::vector<int32_t>> Llama2cTokenizer::Encode(std::string_view text,
                                                              bool add_bos) const {
  std::vector<int32_t> tokens;
  tokens.reserve(text.size() + 2);
  auto push_bytes = [&](std::string_view bytes) -> absl::Status {
    if (!has_byte_fallback_) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot encode byte ", BytePieceName(static_cast<uint8_t>(bytes[0])),
                       ": the vocabulary has no byte pieces at ids 3..258 for byte fallback"));
    }
    for (char c : bytes) tokens.push_back(kFirstBytePieceId + static_cast<uint8_t>(c));
    return absl::OkStatus();
  };

  // SentencePiece's add_dummy_prefix: the first word gets its space like the others.
  if (!text.empty()) {
    if (const int32_t space = Lookup(" "); space >= 0) {
      tokens.push_back(space);
    } else if (absl::Status s = push_bytes(" "); !s.ok()) {
      return s;
    }
  }
  // One token per code point: a byte, then up to 3 continuation bytes (10xxxxxx).
  // A stray continuation byte starts its own group, exactly as run.c groups them.
  std::string buffer;
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    while (i + len < text.size() && (static_cast<uint8_t>(text[i + len]) & 0xC0) == 0x80 &&
           len < 4) {
      ++len;
    }
    buffer.assign(text.substr(i, len));
    if (const int32_t id = Lookup(buffer); id >= 0) {
      tokens.push_back(id);
    } else if (absl::Status s = push_bytes(buffer); !s.ok()) {
      return s;
    }
    i += len;
  }

  // BPE merges. run.c rescans every pair per merge (O(n²) with string building);
  // a heap of candidate pairs over a linked list gives the same order: highest
  // score first, leftmost (smallest original index) on ties.
  const size_t n = tokens.size();
  if (n >= 2) {
    constexpr size_t kNone = std::numeric_limits<size_t>::max();
    struct Candidate {
      float score;
      size_t left, right;         // node indices
      int32_t left_id, right_id;  // the ids the pair had when found (stale if changed)
      int32_t merged_id;
    };
    auto lower_priority = [](const Candidate& a, const Candidate& b) {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> heap(
        lower_priority);
    std::vector<size_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
      prev[i] = i == 0 ? kNone : i - 1;
      next[i] = i + 1 == n ? kNone : i + 1;
    }
    std::string concat;
    auto consider = [&](size_t left, size_t right) {
      const std::string& a = pieces_[tokens[left]];
      const std::string& b = pieces_[tokens[right]];
      if (a.size() + b.size() > static_cast<size_t>(max_token_length_)) return;
      concat.assign(a);
      concat += b;
      const int32_t merged = Lookup(concat);
      if (merged < 0 || !(scores_[merged] > kNoMergeScore)) return;
      heap.push({scores_[merged], left, right, tokens[left], tokens[right], merged});
    };
    for (size_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      if (!alive[c.left] || next[c.left] != c.right || tokens[c.left] != c.left_id ||
          tokens[c.right] != c.right_id) {
        continue;  // a merge since this pair was found changed it
      }
      tokens[c.left] = c.merged_id;
      alive[c.right] = false;
      next[c.left] = next[c.right];
      if (next[c.left] != kNone) prev[next[c.left]] = c.left;
      if (prev[c.left] != kNone) consider(prev[c.left], c.left);
      if (next[c.left] != kNone) consider(c.left, next[c.left]);
    }
    size_t out = 0;
    for (size_t i = 0; i < n; ++i) {
      if (alive[i]) tokens[out++] = tokens[i];
    }
    tokens.resize(out);
  }

  if (add_bos) tokens.insert(tokens.begin(), kBosId);
  return tokens;
}

absl::StatusOr<std::string> Llama2cTokenizer::DecodeToken(int32_t prev, int32_t token) const {
  if (token < 0 || token >= vocab_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id ", token, " is outside the vocabulary [0, ", vocab_size(), ")"));
  }
  if (silent_[token]) return std::string();
  std::string_view piece = pieces_[token];
  // SentencePiece's decoder drops the dummy-prefix space of the first word.
  if (prev == kBosId && piece.starts_with(' ')) piece.remove_prefix(1);
  if (const std::optional<uint8_t> byte = ParseBytePiece(piece)) {
    // Encode writes the dummy prefix as <0x20> when " " is not a piece; drop
    // that too (run.c would print it), so Decode(Encode(text)) == text always.
    if (prev == kBosId && *byte == ' ') return std::string();
    return std::string(1, static_cast<char>(*byte));
  }
  return std::string(piece);
}

absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> LoadLlama2cTokenizer(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("llama2.c tokenizer ", name, " not found"));
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    return absl::DataLossError(
        absl::StrCat("cannot stat llama2.c tokenizer ", name, ": ", ec.message()));
  }
  if (size > kMaxFileBytes) {
    return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, " is ", size,
                                            " bytes; no tokenizer is larger than ", kMaxFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(static_cast<size_t>(size), '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) {
    return absl::DataLossError(
        absl::StrCat("cannot read llama2.c tokenizer ", name, ": ", std::strerror(errno)));
  }
  if (data.size() < 4) {
    return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, " is ", data.size(),
                                            " bytes, too short for its int32 max_token_length"));
  }
  const int32_t max_len = static_cast<int32_t>(ReadU32(data.data()));
  if (max_len < 0 || max_len > Llama2cTokenizer::kMaxPieceBytes) {
    return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, ": max_token_length ",
                                            max_len, " is outside [0, ",
                                            Llama2cTokenizer::kMaxPieceBytes, "]"));
  }

  std::vector<std::string> pieces;
  std::vector<float> scores;
  size_t offset = 4;
  while (offset < data.size()) {
    const size_t record = pieces.size();
    const size_t left = data.size() - offset;
    if (left < kRecordHeaderBytes) {
      return absl::DataLossError(absl::StrCat(
          "llama2.c tokenizer ", name, ": record ", record, " at byte ", offset, " is truncated (",
          left, " trailing bytes; a record header needs ", kRecordHeaderBytes, ")"));
    }
    const float score = std::bit_cast<float>(ReadU32(data.data() + offset));
    const int32_t len = static_cast<int32_t>(ReadU32(data.data() + offset + 4));
    if (len < 0 || len > max_len) {
      return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, ": record ", record,
                                              " at byte ", offset, " has piece length ", len,
                                              ", outside [0, max_token_length=", max_len, "]"));
    }
    offset += kRecordHeaderBytes;
    if (static_cast<size_t>(len) > data.size() - offset) {
      return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, ": record ", record,
                                              " is truncated (piece of ", len, " bytes, ",
                                              data.size() - offset, " left in the file)"));
    }
    pieces.emplace_back(data.data() + offset, static_cast<size_t>(len));
    scores.push_back(score);
    offset += static_cast<size_t>(len);
  }
  if (pieces.empty()) {
    return absl::DataLossError(absl::StrCat("llama2.c tokenizer ", name, " has no tokens"));
  }
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> tokenizer =
      Llama2cTokenizer::Create(std::move(pieces), std::move(scores));
  if (!tokenizer.ok()) {
    return absl::DataLossError(
        absl::StrCat("llama2.c tokenizer ", name, ": ", tokenizer.status().message()));
  }
  return tokenizer;
}

absl::Status WriteLlama2cTokenizer(const fs::path& path, const std::vector<std::string>& pieces,
                                   const std::vector<float>& scores) {
  if (pieces.empty()) return absl::InvalidArgumentError("a llama2.c vocabulary needs pieces");
  if (pieces.size() != scores.size()) {
    return absl::InvalidArgumentError(absl::StrCat("llama2.c vocabulary has ", pieces.size(),
                                                   " pieces but ", scores.size(), " scores"));
  }
  size_t max_len = 0;
  size_t total = 4;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].size() > static_cast<size_t>(Llama2cTokenizer::kMaxPieceBytes)) {
      return absl::InvalidArgumentError(absl::StrCat("piece ", i, " is ", pieces[i].size(),
                                                     " bytes; the limit is ",
                                                     Llama2cTokenizer::kMaxPieceBytes));
    }
    max_len = std::max(max_len, pieces[i].size());
    total += kRecordHeaderBytes + pieces[i].size();
  }
  std::string out;
  out.reserve(total);
  AppendU32(out, static_cast<uint32_t>(max_len));
  for (size_t i = 0; i < pieces.size(); ++i) {
    AppendU32(out, std::bit_cast<uint32_t>(scores[i]));
    AppendU32(out, static_cast<uint32_t>(pieces[i].size()));
    out += pieces[i];
  }
  errno = 0;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return WriteError("cannot create", path);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file) return WriteError("cannot write", path);
  return absl::OkStatus();
}

}  // namespace accllm
