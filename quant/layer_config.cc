#include "quant/layer_config.h"

#include <fstream>  // std::ifstream
#include <sstream>  // std::stringstream
#include <utility>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "nlohmann/json.hpp"       // nlohmann::json

namespace accllm {
namespace {

using json = nlohmann::ordered_json;  // keeps the file order: the first matching glob wins

absl::StatusOr<LayerOverride> ParseEntry(const json& j, const std::string& where) {
  LayerOverride e;
  if (j.is_string() && j.get<std::string>() == "float") {
    e.keep_float = true;
    return e;
  }
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object or \"float\""));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string field = it.key();
    const json& v = it.value();
    const std::string at = absl::StrCat(where, ".", field);
    if (field == "bits" || field == "group_size") {
      if (!v.is_number_integer()) return absl::InvalidArgumentError(at + ": must be an integer");
      (field == "bits" ? e.bits : e.group) = v.get<int>();
    } else if (field == "zero_point") {
      if (!v.is_string()) return absl::InvalidArgumentError(at + ": must be a string");
      const std::string s = v.get<std::string>();
      if (s == "auto") {
        e.zero_point = std::optional<ZeroPoint>();
      } else {
        absl::StatusOr<ZeroPoint> p = ParseZeroPoint(s);
        if (!p.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(at, ": unknown zero point \"", s, "\" (expected auto | fractional | integer)"));
        }
        e.zero_point = *p;
      }
    } else if (field == "scheme" || field == "sparsity" || field == "method") {
      if (!v.is_string()) return absl::InvalidArgumentError(at + ": must be a string");
      const std::string s = v.get<std::string>();
      if (field == "scheme") {
        absl::StatusOr<WeightScheme> p = ParseWeightScheme(s);
        if (!p.ok())
          return absl::InvalidArgumentError(absl::StrCat(at, ": ", p.status().message()));
        e.scheme = *p;
      } else if (field == "sparsity") {
        absl::StatusOr<Sparsity> p = ParseSparsity(s);
        if (!p.ok())
          return absl::InvalidArgumentError(absl::StrCat(at, ": ", p.status().message()));
        e.sparsity = *p;
      } else {
        absl::StatusOr<QuantMethod> p = ParseQuantMethod(s);
        if (!p.ok())
          return absl::InvalidArgumentError(absl::StrCat(at, ": ", p.status().message()));
        e.method = *p;
      }
    } else if (field == "rotate") {
      if (!v.is_boolean()) return absl::InvalidArgumentError(at + ": must be true or false");
      e.rotate = v.get<bool>();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown field \"", field,
                       "\" (known: bits, scheme, group_size, sparsity, zero_point, method, rotate)"));
    }
  }
  return e;
}

}  // namespace

std::string_view QuantMethodName(QuantMethod method) {
  return method == QuantMethod::kRtn ? "rtn" : "gptq";
}

absl::StatusOr<QuantMethod> ParseQuantMethod(std::string_view name) {
  if (name == "rtn") return QuantMethod::kRtn;
  if (name == "gptq") return QuantMethod::kGptq;
  return absl::InvalidArgumentError(
      absl::StrCat("method must be rtn or gptq, got \"", std::string(name), "\""));
}

LayerPlan LayerOverride::ApplyTo(LayerPlan plan) const {
  if (keep_float) {
    plan.keep_float = true;
    return plan;
  }
  plan.keep_float = false;
  if (bits) plan.format.bits = *bits;
  if (scheme) plan.format.scheme = *scheme;
  if (group) plan.format.group = *group;
  if (sparsity) plan.format.sparsity = *sparsity;
  if (zero_point) plan.zero_point = *zero_point;
  if (method) plan.method = *method;
  if (rotate) plan.rotate = *rotate;
  return plan;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with one backtrack point (the last '*').
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

ZeroPoint AutoZeroPoint(const WeightFormat& format) {
  return format.scheme == WeightScheme::kUniform && format.sparsity == Sparsity::k2of4
             ? ZeroPoint::kInteger
             : ZeroPoint::kFractional;
}

LayerPlan ResolveZeroPoint(LayerPlan plan) {
  plan.format.zero_point = plan.zero_point.value_or(AutoZeroPoint(plan.format));
  return plan;
}

LayerPlan LayerConfig::PlanFor(std::string_view prefix, const LayerPlan& base) const {
  LayerPlan plan = default_entry ? default_entry->ApplyTo(base) : base;
  for (const auto& [key, entry] : layers) {
    if (key == prefix) return ResolveZeroPoint(entry.ApplyTo(plan));
  }
  for (const auto& [key, entry] : layers) {
    if (GlobMatch(key, prefix)) return ResolveZeroPoint(entry.ApplyTo(plan));
  }
  return ResolveZeroPoint(plan);
}

absl::Status LayerConfig::CheckKeysMatch(const std::vector<std::string>& prefixes) const {
  for (const auto& [key, entry] : layers) {
    bool found = false;
    for (const std::string& p : prefixes) found = found || GlobMatch(key, p);
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer config: \"", key, "\" matches no linear layer of the model (e.g. \"",
                       prefixes.empty() ? std::string() : prefixes.front(), "\")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LayerConfig> ParseLayerConfig(std::string_view json_text, std::string_view where) {
  const std::string w(where);
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError(w + ": not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError(w + ": must be a JSON object");
  LayerConfig config;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "default") {
      absl::StatusOr<LayerOverride> e = ParseEntry(it.value(), w + ": default");
      if (!e.ok()) return e.status();
      config.default_entry = *e;
    } else if (it.key() == "layers") {
      if (!it.value().is_object())
        return absl::InvalidArgumentError(w + ": layers must be an object");
      for (auto l = it.value().begin(); l != it.value().end(); ++l) {
        absl::StatusOr<LayerOverride> e =
            ParseEntry(l.value(), absl::StrCat(w, ": layers[\"", l.key(), "\"]"));
        if (!e.ok()) return e.status();
        config.layers.emplace_back(l.key(), *e);
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(w, ": unknown field \"", it.key(), "\" (known: default, layers)"));
    }
  }
  return config;
}

absl::StatusOr<LayerConfig> ReadLayerConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open layer config ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return ParseLayerConfig(text.str(), path.string());
}

}  // namespace accllm
