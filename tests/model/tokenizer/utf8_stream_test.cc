#include "model/tokenizer/utf8_stream.h"

#include <gtest/gtest.h>

#include <random>

namespace accllm {
namespace {

constexpr char kFffd[] = "\xEF\xBF\xBD";

TEST(Utf8StreamTest, PassesAsciiAndWholeCharactersThrough) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("hello "), "hello ");
  EXPECT_EQ(s.Push("h\xC3\xA9llo \xF0\x9F\x98\x80"), "h\xC3\xA9llo \xF0\x9F\x98\x80");
  EXPECT_EQ(s.Flush(), "");
}

TEST(Utf8StreamTest, HoldsBackASplitCharacterUntilItCompletes) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("a\xF0"), "a");
  EXPECT_EQ(s.Push("\x9F"), "");
  EXPECT_EQ(s.Push("\x98"), "");
  EXPECT_EQ(s.Push("\x80!"), "\xF0\x9F\x98\x80!");
}

TEST(Utf8StreamTest, ReplacesInvalidBytes) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("\xFF" "a"), std::string(kFffd) + "a");
  EXPECT_EQ(s.Push("\xC3(" ), std::string(kFffd) + "(");        // lead without continuation
  EXPECT_EQ(s.Push("\xC0\xAF"), std::string(kFffd) + kFffd);    // overlong
  EXPECT_EQ(s.Push("\xED\xA0\x80"), std::string(kFffd) + kFffd + kFffd);  // surrogate
  EXPECT_EQ(s.Push("\xE2\x82"), "");
  EXPECT_EQ(s.Flush(), kFffd);  // the stream ended inside a character
}

TEST(Utf8StreamTest, AnyByteSoupComesOutValidAndAnyValidTextComesOutWhole) {
  std::mt19937 rng(3);
  const std::string valid = "naïve café — 日本語 🙂 ok";
  for (int trial = 0; trial < 200; ++trial) {
    Utf8Stream s;
    std::string out;
    for (size_t i = 0; i < valid.size();) {
      const size_t n = 1 + rng() % 4;
      out += s.Push(valid.substr(i, n));
      i += n;
    }
    out += s.Flush();
    EXPECT_EQ(out, valid);
  }
  for (int trial = 0; trial < 200; ++trial) {
    Utf8Stream s;
    std::string out;
    for (int i = 0; i < 50; ++i) out += s.Push(std::string(1, static_cast<char>(rng() & 0xFF)));
    out += s.Flush();
    Utf8Stream check;  // valid UTF-8 passes through unchanged
    EXPECT_EQ(check.Push(out) + check.Flush(), out);
  }
}

}  // namespace
}  // namespace accllm
