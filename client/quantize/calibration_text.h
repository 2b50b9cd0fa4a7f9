// Calibration sequences from real text (`accllm quantize --calib-text`) or a stream of token ids
// (`--calib-ids`): the stream is cut into `count` consecutive pieces of length - 1 tokens, each
// run as BOS + piece, the way the model saw documents in training.
#ifndef ACCLLM_CLIENT_QUANTIZE_CALIBRATION_TEXT_H_
#define ACCLLM_CLIENT_QUANTIZE_CALIBRATION_TEXT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/model_dir.h"       // ModelDir

namespace accllm {

// ids: the token stream without BOS. `source` names it in errors ("--calib-text FILE"); too
// short a stream is an error that says how many tokens it has and how many are needed.
absl::StatusOr<std::vector<std::vector<int32_t>>> SplitCalibrationStream(
    std::span<const int32_t> ids, int32_t bos, int32_t count, int32_t length,
    std::string_view source);

// The file's text encoded with the model directory's tokenizer (FailedPrecondition without one).
absl::StatusOr<std::vector<std::vector<int32_t>>> CalibrationFromText(const ModelDir& dir,
                                                                      const std::string& path,
                                                                      int32_t count,
                                                                      int32_t length);

// Whitespace-separated ids in [0, vocab); a leading BOS is dropped (each piece gets its own).
absl::StatusOr<std::vector<std::vector<int32_t>>> CalibrationFromIds(const ModelDir& dir,
                                                                     const std::string& path,
                                                                     int32_t count, int32_t length);

}  // namespace accllm

#endif  // ACCLLM_CLIENT_QUANTIZE_CALIBRATION_TEXT_H_
