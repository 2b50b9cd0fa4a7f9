#include "quant/quantization_config.h"

#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>  // nlohmann::json

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "model/json_util.h"          // JsonTypeWithArticle, DescribeJsonError
#include "quant/quant_config_json.h"  // ParseWeightFormatJson, ParseKvFormatJson, ...

namespace accllm {
namespace {

using json = nlohmann::json;

// Every message reads "<where>: quantization_config.<field> <what>".
absl::Status FieldError(std::string_view where, std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(where), where.empty() ? "" : ": ",
                                                 "quantization_config.", std::string(field), " ",
                                                 std::string(what)));
}

absl::Status ExpectType(const json& v, bool ok, std::string_view where, std::string_view field,
                        std::string_view expected) {
  if (ok) return absl::OkStatus();
  return FieldError(
      where, field,
      absl::StrCat("is ", JsonTypeWithArticle(v), ", expected ", std::string(expected)));
}

// {"bits": N} with N among `allowed` (activations, embedding, lm_head).
absl::StatusOr<int> ParseBitsObject(const json& v, std::string_view where, std::string_view field,
                                    std::initializer_list<int> allowed) {
  if (absl::Status s = ExpectType(v, v.is_object(), where, field, "an object"); !s.ok()) return s;
  int bits = -1;
  for (const auto& [key, value] : v.items()) {
    const std::string f = absl::StrCat(std::string(field), ".", key);
    if (key != "bits") return FieldError(where, f, "is unknown (expected bits)");
    if (absl::Status s = ExpectType(value, value.is_number_integer(), where, f, "an integer");
        !s.ok()) {
      return s;
    }
    const int64_t b = value.get<int64_t>();
    bool found = false;
    for (int a : allowed) found = found || a == b;
    if (!found) {
      std::string list;
      for (int a : allowed) absl::StrAppend(&list, list.empty() ? "" : ", ", a);
      return FieldError(where, f, absl::StrCat("is ", b, ", expected one of ", list));
    }
    bits = static_cast<int>(b);
  }
  if (bits < 0) return FieldError(where, absl::StrCat(std::string(field), ".bits"), "is missing");
  return bits;
}

absl::StatusOr<RotationSpec> ParseRotation(const json& v, std::string_view where,
                                           std::string_view field) {
  if (absl::Status s = ExpectType(v, v.is_object(), where, field, "an object"); !s.ok()) return s;
  RotationSpec r;
  bool has_kind = false, has_seed = false;
  for (const auto& [key, value] : v.items()) {
    const std::string f = absl::StrCat(std::string(field), ".", key);
    if (key == "kind") {
      if (absl::Status s = ExpectType(value, value.is_string(), where, f, "a string"); !s.ok()) {
        return s;
      }
      const std::string kind = value.get<std::string>();
      if (kind == "hadamard") {
        r.kind = RotationSpec::Kind::kHadamard;
      } else if (kind == "matrix") {
        r.kind = RotationSpec::Kind::kMatrix;
      } else {
        return FieldError(where, f, absl::StrCat("is \"", kind, "\", expected hadamard or matrix"));
      }
      has_kind = true;
    } else if (key == "seed") {
      if (absl::Status s =
              ExpectType(value, value.is_number_unsigned(), where, f, "a non-negative integer");
          !s.ok()) {
        return s;
      }
      r.seed = value.get<uint64_t>();
      has_seed = true;
    } else {
      return FieldError(where, f, "is unknown (expected kind, seed)");
    }
  }
  if (!has_kind) return FieldError(where, absl::StrCat(std::string(field), ".kind"), "is missing");
  if (has_seed && r.kind == RotationSpec::Kind::kMatrix) {
    return FieldError(where, absl::StrCat(std::string(field), ".seed"),
                      "is only meaningful for kind \"hadamard\"");
  }
  return r;
}

std::string Quoted(std::string_view map, std::string_view key) {
  return absl::StrCat(std::string(map), "[\"", std::string(key), "\"]");
}

}  // namespace

absl::Status ValidateQuantizationConfig(const QuantizationConfig& c) {
  const std::string_view where;  // the caller prefixes the file
  if (c.version != kQuantizationConfigVersion) {
    return FieldError(where, "version", absl::StrCat("is ", c.version, ", expected 1"));
  }
  if (absl::Status s = ValidateWeightFormat(c.weights); !s.ok()) {
    return FieldError(where, "weights", std::string(s.message()));
  }
  for (const auto& [name, f] : c.layers) {
    if (name.empty()) return FieldError(where, "layers", "has an empty layer name");
    if (absl::Status s = ValidateWeightFormat(f); !s.ok()) {
      return FieldError(where, Quoted("layers", name), std::string(s.message()));
    }
  }
  if (c.activation_bits != 8 && c.activation_bits != 16) {
    return FieldError(where, "activations.bits",
                      absl::StrCat("is ", c.activation_bits, ", expected 8 or 16"));
  }
  if (absl::Status s = ValidateKvFormat(c.kv_cache); !s.ok()) {
    return FieldError(where, "kv_cache", std::string(s.message()));
  }
  for (const auto& [name, r] : c.rotations) {
    if (name.empty()) return FieldError(where, "rotations", "has an empty layer name");
    if (r.kind == RotationSpec::Kind::kMatrix && r.seed != 0) {
      return FieldError(where, Quoted("rotations", name), "a matrix rotation has no seed");
    }
  }
  for (const auto& [field, bits] : {std::pair<const char*, int>{"embedding.bits", c.embedding_bits},
                                    std::pair<const char*, int>{"lm_head.bits", c.lm_head_bits}}) {
    if (bits != 8 && bits != 16 && bits != 32) {
      return FieldError(where, field, absl::StrCat("is ", bits, ", expected 8, 16 or 32"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizationConfig> ParseQuantizationConfig(std::string_view text,
                                                           std::string_view where) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(where), ": quantization_config is not valid JSON: ", DescribeJsonError(text)));
  }
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(where), ": quantization_config is ",
                                                   JsonTypeWithArticle(j), ", expected an object"));
  }
  QuantizationConfig c;
  bool has_method = false;
  const std::string prefix = absl::StrCat(std::string(where), ": quantization_config.");
  for (const auto& [key, value] : j.items()) {
    if (key == "quant_method") {
      if (absl::Status s = ExpectType(value, value.is_string(), where, key, "a string"); !s.ok()) {
        return s;
      }
      if (value.get<std::string>() != kAccllmQuantMethod) {
        return FieldError(where, key,
                          absl::StrCat("is \"", value.get<std::string>(),
                                       "\", this engine reads \"accllm\" only"));
      }
      has_method = true;
    } else if (key == "version") {
      if (absl::Status s = ExpectType(value, value.is_number_integer(), where, key, "an integer");
          !s.ok()) {
        return s;
      }
      if (value.get<int64_t>() != kQuantizationConfigVersion) {
        return FieldError(where, key, absl::StrCat("is ", value.get<int64_t>(), ", expected 1"));
      }
    } else if (key == "weights") {
      absl::StatusOr<WeightFormat> f = ParseWeightFormatJson(value.dump(), prefix + "weights");
      if (!f.ok()) return f.status();
      c.weights = *f;
    } else if (key == "layers") {
      if (absl::Status s = ExpectType(value, value.is_object(), where, key, "an object"); !s.ok()) {
        return s;
      }
      for (const auto& [name, entry] : value.items()) {
        if (name.empty()) return FieldError(where, key, "has an empty layer name");
        absl::StatusOr<WeightFormat> f =
            ParseWeightFormatJson(entry.dump(), prefix + Quoted("layers", name));
        if (!f.ok()) return f.status();
        c.layers.emplace(name, *f);
      }
    } else if (key == "activations") {
      absl::StatusOr<int> b = ParseBitsObject(value, where, key, {8, 16});
      if (!b.ok()) return b.status();
      c.activation_bits = *b;
    } else if (key == "kv_cache") {
      absl::StatusOr<KvFormat> f = ParseKvFormatJson(value.dump(), prefix + "kv_cache");
      if (!f.ok()) return f.status();
      c.kv_cache = *f;
    } else if (key == "rotations") {
      if (absl::Status s = ExpectType(value, value.is_object(), where, key, "an object"); !s.ok()) {
        return s;
      }
      for (const auto& [name, entry] : value.items()) {
        if (name.empty()) return FieldError(where, key, "has an empty layer name");
        absl::StatusOr<RotationSpec> r = ParseRotation(entry, where, Quoted("rotations", name));
        if (!r.ok()) return r.status();
        c.rotations.emplace(name, *r);
      }
    } else if (key == "embedding" || key == "lm_head") {
      absl::StatusOr<int> b = ParseBitsObject(value, where, key, {8, 16, 32});
      if (!b.ok()) return b.status();
      (key == "embedding" ? c.embedding_bits : c.lm_head_bits) = *b;
    } else {
      return FieldError(where, key,
                        "is unknown (expected quant_method, version, weights, layers, "
                        "activations, kv_cache, rotations, embedding, lm_head)");
    }
  }
  if (!has_method) return FieldError(where, "quant_method", "is missing (expected \"accllm\")");
  if (absl::Status s = ValidateQuantizationConfig(c); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(where), ": ", s.message()));
  }
  return c;
}

std::string QuantizationConfigToJson(const QuantizationConfig& c) {
  json j = json::object();
  j["quant_method"] = std::string(kAccllmQuantMethod);
  j["version"] = c.version;
  j["weights"] = json::parse(WeightFormatToJson(c.weights));
  json layers = json::object();
  for (const auto& [name, f] : c.layers) layers[name] = json::parse(WeightFormatToJson(f));
  j["layers"] = std::move(layers);
  j["activations"] = {{"bits", c.activation_bits}};
  j["kv_cache"] = json::parse(KvFormatToJson(c.kv_cache));
  json rotations = json::object();
  for (const auto& [name, r] : c.rotations) {
    json e = json::object();
    if (r.kind == RotationSpec::Kind::kHadamard) {
      e["kind"] = "hadamard";
      e["seed"] = r.seed;
    } else {
      e["kind"] = "matrix";
    }
    rotations[name] = std::move(e);
  }
  j["rotations"] = std::move(rotations);
  j["embedding"] = {{"bits", c.embedding_bits}};
  j["lm_head"] = {{"bits", c.lm_head_bits}};
  return j.dump();
}

}  // namespace accllm
