#include "model/tokenizer/utf8_stream.h"

#include <cstdint>

namespace accllm {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the sequence a lead byte starts, or 0 for a byte that cannot lead.
int SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether byte `i` (1-based continuation index) may follow `lead` (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
bool ValidContinuation(unsigned char lead, int i, unsigned char b) {
  if ((b & 0xC0) != 0x80) return false;
  if (i != 1) return true;
  if (lead == 0xE0) return b >= 0xA0;
  if (lead == 0xED) return b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90;
  if (lead == 0xF4) return b <= 0x8F;
  return true;
}
}  // namespace

std::string Utf8Stream::Push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const auto lead = static_cast<unsigned char>(pending_[i]);
    const int len = SequenceLength(lead);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    int have = 1;
    while (have < len && i + have < pending_.size() &&
           ValidContinuation(lead, have, static_cast<unsigned char>(pending_[i + have]))) {
      ++have;
    }
    if (have == len) {
      out.append(pending_, i, len);
      i += len;
    } else if (i + have == pending_.size()) {
      break;  // a valid start that may still complete: hold it back
    } else {
      out += kReplacement;  // broken sequence: replace its valid prefix, resync after it
      i += have;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::Flush() {
  std::string out = pending_.empty() ? "" : std::string(kReplacement);
  pending_.clear();
  return out;
}

}  // namespace accllm
