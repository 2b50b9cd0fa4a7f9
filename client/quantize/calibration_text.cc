#include "client/quantize/calibration_text.h"

#include <fstream>
#include <iterator>  // std::istreambuf_iterator

#include "absl/strings/str_cat.h"    // absl::StrCat
#include "client/eval/evaluation.h"  // ReadStreamFile

namespace accllm {
namespace {

absl::Status CheckShape(int32_t count, int32_t length, int32_t max_len) {
  if (count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--calib-samples must be positive, got ", count));
  }
  if (length < 2 || length > max_len) {
    return absl::InvalidArgumentError(absl::StrCat("--calib-length must be in [2, ", max_len,
                                                   "] (the model's context), got ", length));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>> SplitCalibrationStream(
    std::span<const int32_t> ids, int32_t bos, int32_t count, int32_t length,
    std::string_view source) {
  const int64_t piece = length - 1;
  const int64_t needed = static_cast<int64_t>(count) * piece;
  if (count <= 0 || length < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source),
                     ": --calib-samples and --calib-length must be positive (length at least 2)"));
  }
  if (static_cast<int64_t>(ids.size()) < needed) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), " gives ", ids.size(), " tokens, ", needed,
                     " needed (--calib-samples ", count, " x (--calib-length ", length,
                     " - 1 for BOS)); give a longer text or fewer/shorter "
                     "samples"));
  }
  std::vector<std::vector<int32_t>> sequences(static_cast<size_t>(count));
  for (int32_t s = 0; s < count; ++s) {
    std::vector<int32_t>& seq = sequences[static_cast<size_t>(s)];
    seq.reserve(static_cast<size_t>(length));
    seq.push_back(bos);
    const auto begin = ids.begin() + s * piece;
    seq.insert(seq.end(), begin, begin + piece);
  }
  return sequences;
}

absl::StatusOr<std::vector<std::vector<int32_t>>> CalibrationFromText(const ModelDir& dir,
                                                                      const std::string& path,
                                                                      int32_t count,
                                                                      int32_t length) {
  if (absl::Status s = CheckShape(count, length, dir.config.max_seq_len); !s.ok()) return s;
  const std::string source = absl::StrCat("--calib-text ", path);
  if (dir.tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": the model in ", dir.path.string(),
                     " has no tokenizer (tokenizer.model or tokenizer.bin); use --calib-ids"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(source, ": cannot open the file"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A big file is cut (at a line end) well past what is needed: tokens average a few bytes.
  const size_t enough = static_cast<size_t>(count) * static_cast<size_t>(length) * 64;
  if (text.size() > enough) {
    const size_t cut = text.rfind('\n', enough);
    text.resize(cut == std::string::npos ? enough : cut + 1);
  }
  absl::StatusOr<std::vector<int32_t>> ids = dir.tokenizer->Encode(text, /*add_bos=*/false);
  if (!ids.ok()) {
    return absl::Status(ids.status().code(), absl::StrCat(source, ": ", ids.status().message()));
  }
  return SplitCalibrationStream(*ids, dir.tokenizer->bos_id(), count, length, source);
}

absl::StatusOr<std::vector<std::vector<int32_t>>> CalibrationFromIds(const ModelDir& dir,
                                                                     const std::string& path,
                                                                     int32_t count,
                                                                     int32_t length) {
  if (absl::Status s = CheckShape(count, length, dir.config.max_seq_len); !s.ok()) return s;
  const std::string source = absl::StrCat("--calib-ids ", path);
  if (!std::ifstream(path)) return absl::NotFoundError(absl::StrCat(source, ": cannot open"));
  absl::StatusOr<std::vector<int32_t>> ids = ReadStreamFile(path, dir.config.vocab_size);
  if (!ids.ok()) {
    return absl::Status(ids.status().code(), absl::StrCat(source, ": ", ids.status().message()));
  }
  const int32_t bos = dir.tokenizer != nullptr ? dir.tokenizer->bos_id() : dir.config.bos_token_id;
  std::span<const int32_t> stream(*ids);
  if (!stream.empty() && stream.front() == bos) stream = stream.subspan(1);
  return SplitCalibrationStream(stream, bos, count, length, source);
}

}  // namespace accllm
