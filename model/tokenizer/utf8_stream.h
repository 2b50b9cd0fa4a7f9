// Turns the raw bytes of streamed tokens into valid UTF-8 text deltas: byte
// tokens can split a character across tokens, and a random or damaged model can
// emit bytes that are no UTF-8 at all. Incomplete characters are held back until
// they complete; invalid bytes become U+FFFD. (Protobuf string fields and
// terminals both want valid UTF-8.)
#ifndef ACCLLM_MODEL_TOKENIZER_UTF8_STREAM_H_
#define ACCLLM_MODEL_TOKENIZER_UTF8_STREAM_H_

#include <string>
#include <string_view>

namespace accllm {

class Utf8Stream {
 public:
  // Appends `bytes`; returns the text that is complete so far (possibly empty).
  std::string Push(std::string_view bytes);
  // End of stream: whatever is held back is an incomplete character → U+FFFD.
  std::string Flush();

 private:
  std::string pending_;  // at most 3 bytes: the start of an unfinished character
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_UTF8_STREAM_H_
