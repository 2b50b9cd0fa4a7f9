// Shared helpers for error messages about JSON files (config.json, safetensors
// headers, shard indexes), so every reader names problems the same way.
#ifndef ACCLLM_MODEL_JSON_UTIL_H_
#define ACCLLM_MODEL_JSON_UTIL_H_

#include <nlohmann/json_fwd.hpp>  // nlohmann::json (declaration only)
#include <string>
#include <string_view>

namespace accllm {

// "an object", "a number", "null", ... for "X is <this>, expected Y" messages.
std::string JsonTypeWithArticle(const nlohmann::json& value);

// nlohmann's description of the first syntax error in `text` (the DOM parser
// reports failure without a reason when exceptions are off).
std::string DescribeJsonError(std::string_view text);

}  // namespace accllm

#endif  // ACCLLM_MODEL_JSON_UTIL_H_
