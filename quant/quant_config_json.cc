#include "quant/quant_config_json.h"

#include <nlohmann/json.hpp>  // nlohmann::json

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/json_util.h"       // JsonTypeWithArticle, DescribeJsonError

namespace accllm {
namespace {

using json = nlohmann::json;

absl::Status FieldError(std::string_view where, std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(where), ": field \"", std::string(field), "\" ", std::string(what)));
}

absl::StatusOr<json> ParseObject(std::string_view text, std::string_view where) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(where), ": invalid JSON: ", DescribeJsonError(text)));
  }
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(where), " is ", JsonTypeWithArticle(j), ", expected an object"));
  }
  return j;
}

absl::StatusOr<int> GetInt(const json& v, std::string_view where, std::string_view field) {
  if (!v.is_number_integer()) {
    return FieldError(where, field,
                      absl::StrCat("is ", JsonTypeWithArticle(v), ", expected an integer"));
  }
  const int64_t i = v.get<int64_t>();
  if (i < -(int64_t{1} << 30) || i > (int64_t{1} << 30)) {
    return FieldError(where, field, absl::StrCat("is ", i, ", out of range"));
  }
  return static_cast<int>(i);
}

absl::StatusOr<std::string> GetString(const json& v, std::string_view where,
                                      std::string_view field) {
  if (!v.is_string()) {
    return FieldError(where, field,
                      absl::StrCat("is ", JsonTypeWithArticle(v), ", expected a string"));
  }
  return v.get<std::string>();
}

}  // namespace

std::string WeightFormatToJson(const WeightFormat& f) {
  json j = json::object();
  j["bits"] = f.bits;
  j["scheme"] = std::string(WeightSchemeName(f.scheme));
  j["group_size"] = f.group;
  j["sparsity"] = std::string(SparsityName(f.sparsity));
  if (f.scheme == WeightScheme::kUniform) j["zero_point"] = std::string(ZeroPointName(f.zero_point));
  return j.dump();
}

absl::StatusOr<WeightFormat> ParseWeightFormatJson(std::string_view text, std::string_view where) {
  absl::StatusOr<json> j = ParseObject(text, where);
  if (!j.ok()) return j.status();
  WeightFormat f;
  for (const auto& [key, value] : j->items()) {
    if (key == "bits" || key == "group_size") {
      absl::StatusOr<int> v = GetInt(value, where, key);
      if (!v.ok()) return v.status();
      (key == "bits" ? f.bits : f.group) = *v;
    } else if (key == "scheme" || key == "sparsity" || key == "zero_point") {
      absl::StatusOr<std::string> v = GetString(value, where, key);
      if (!v.ok()) return v.status();
      if (key == "scheme") {
        absl::StatusOr<WeightScheme> s = ParseWeightScheme(*v);
        if (!s.ok()) return FieldError(where, key, std::string(s.status().message()));
        f.scheme = *s;
      } else if (key == "zero_point") {
        absl::StatusOr<ZeroPoint> s = ParseZeroPoint(*v);
        if (!s.ok()) return FieldError(where, key, std::string(s.status().message()));
        f.zero_point = *s;
      } else {
        absl::StatusOr<Sparsity> s = ParseSparsity(*v);
        if (!s.ok()) return FieldError(where, key, std::string(s.status().message()));
        f.sparsity = *s;
      }
    } else {
      return FieldError(where, key,
                        "is unknown (expected bits, scheme, group_size, sparsity, zero_point)");
    }
  }
  if (absl::Status s = ValidateWeightFormat(f); !s.ok()) {
    // Name the field the check is about.
    const std::string msg(s.message());
    const std::string_view field = msg.starts_with("bits")         ? "bits"
                                   : msg.starts_with("group")      ? "group_size"
                                   : msg.starts_with("zero point") ? "zero_point"
                                                                   : "bits";
    return FieldError(where, field, msg);
  }
  return f;
}

std::string KvFormatToJson(const KvFormat& f) {
  json j = json::object();
  j["bits"] = f.bits;
  j["rotate_keys"] = f.rotate_keys;
  j["sink_tokens"] = f.sink_tokens;
  return j.dump();
}

absl::StatusOr<KvFormat> ParseKvFormatJson(std::string_view text, std::string_view where) {
  absl::StatusOr<json> j = ParseObject(text, where);
  if (!j.ok()) return j.status();
  KvFormat f;
  for (const auto& [key, value] : j->items()) {
    if (key == "bits" || key == "sink_tokens") {
      absl::StatusOr<int> v = GetInt(value, where, key);
      if (!v.ok()) return v.status();
      (key == "bits" ? f.bits : f.sink_tokens) = *v;
    } else if (key == "rotate_keys") {
      if (!value.is_boolean()) {
        return FieldError(
            where, key,
            absl::StrCat("is ", JsonTypeWithArticle(value), ", expected true or false"));
      }
      f.rotate_keys = value.get<bool>();
    } else {
      return FieldError(where, key, "is unknown (expected bits, rotate_keys, sink_tokens)");
    }
  }
  if (absl::Status s = ValidateKvFormat(f); !s.ok()) {
    return FieldError(where, f.sink_tokens < 0 ? "sink_tokens" : "bits", std::string(s.message()));
  }
  return f;
}

}  // namespace accllm
