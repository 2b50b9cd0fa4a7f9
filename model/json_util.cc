#include "model/json_util.h"

#include <nlohmann/json.hpp>  // nlohmann::json, nlohmann::json_sax

namespace accllm {

using Json = nlohmann::json;

std::string JsonTypeWithArticle(const Json& v) {
  if (v.is_null()) return "null";
  const std::string name = v.type_name();
  return (v.is_object() || v.is_array() ? "an " : "a ") + name;
}

namespace {
// Accepts everything and keeps only the first syntax error's text.
class ErrorRecorder : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    message = ex.what();
    return false;
  }
  std::string message;
};
}  // namespace

std::string DescribeJsonError(std::string_view text) {
  ErrorRecorder recorder;
  Json::sax_parse(text, &recorder);
  return recorder.message.empty() ? "invalid JSON" : recorder.message;
}

}  // namespace accllm
