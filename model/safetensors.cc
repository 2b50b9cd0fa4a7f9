#include "model/safetensors.h"

#include <algorithm>
#include <cstddef>
#include <nlohmann/json.hpp>  // nlohmann::json
#include <set>
#include <tuple>

#include "absl/status/status.h"       // absl::DataLossError, absl::InvalidArgumentError
#include "model/json_util.h"  // DescribeJsonError, JsonTypeWithArticle
#include "absl/strings/str_cat.h"     // absl::StrCat
#include "absl/strings/str_format.h"  // absl::StrFormat
#include "absl/strings/str_join.h"    // absl::StrJoin

namespace accllm {

namespace {

using Json = nlohmann::json;

// A valid header nests object → entry → shape array; anything deeper is hostile (deep nesting
// costs memory in the DOM), so it is refused before parsing.
constexpr int kMaxHeaderNesting = 8;

// Names in messages come from untrusted files: keep them short and free of control characters.
std::string Printable(std::string_view s) {
  constexpr size_t kMaxChars = 200;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxChars; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxChars) out += "...";
  return out;
}

std::string ShortDump(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Rejects nesting deeper than kMaxHeaderNesting without building anything. Brackets inside
// strings do not count; malformed text is left for the JSON parser to report.

bool NestingWithinLimit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxHeaderNesting) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}


// Non-negative JSON integer that fits in int64 (nlohmann stores every non-negative integer it
// parses as unsigned, negative ones as signed, and out-of-range ones as float).
bool AsNonNegativeInt(const Json& v, uint64_t* out) {
  if (!v.is_number_unsigned()) return false;
  const uint64_t u = v.get<uint64_t>();
  if (u > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = u;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    const std::filesystem::path& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> mapping = MappedFile::Open(path);
  if (!mapping.ok()) return mapping.status();
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile(*std::move(mapping)));
  const std::span<const std::byte> bytes = file->mapping_->bytes();
  const std::string where = path.string();

  auto corrupt = [&](auto&&... parts) {
    return absl::DataLossError(absl::StrCat(where, ": ", parts...));
  };

  if (bytes.size() < 8) {
    return corrupt("file is ", bytes.size(),
                   " bytes, too short for the 8-byte header length of a safetensors file");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) {  // little-endian whatever the host
    header_len = (header_len << 8) | static_cast<uint64_t>(bytes[i]);
  }
  if (header_len > bytes.size() - 8) {
    return corrupt("header length ", header_len, " is larger than the ", bytes.size() - 8,
                   " bytes that follow it (truncated, or not a safetensors file)");
  }
  if (header_len > kMaxSafetensorsHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": header length ", header_len,
                                                   " exceeds the limit of ",
                                                   kMaxSafetensorsHeaderBytes, " bytes"));
  }
  if (header_len == 0) return corrupt("header is empty");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), header_len);
  file->data_ = bytes.subspan(8 + header_len);
  const uint64_t buffer_size = file->data_.size();

  if (!NestingWithinLimit(text)) {
    return corrupt("header JSON nests deeper than ", kMaxHeaderNesting, " levels");
  }
  // The DOM keeps only the last of duplicate keys; a callback sees every top-level key.
  std::set<std::string, std::less<>> seen;
  std::string duplicate;
  bool has_duplicate = false;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && !has_duplicate && parsed.is_string()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second) {
        has_duplicate = true;
        duplicate = key;
      }
    }
    return true;
  };
  Json header = Json::parse(text, on_event, /*allow_exceptions=*/false);
  if (header.is_discarded()) {
    return corrupt("header is not valid JSON: ", DescribeJsonError(text));
  }
  if (!header.is_object()) {
    return corrupt("header is ", JsonTypeWithArticle(header), ", expected an object");
  }
  if (has_duplicate) return corrupt("header names \"", Printable(duplicate), "\" twice");

  struct Range {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (auto& [name, value] : header.items()) {
    if (name == kSafetensorsMetadataKey) {
      if (!value.is_object()) {
        return corrupt("\"", std::string(kSafetensorsMetadataKey), "\" is ",
                       JsonTypeWithArticle(value), ", expected an object of strings");
      }
      for (auto& [key, meta] : value.items()) {
        if (!meta.is_string()) {
          return corrupt("\"", std::string(kSafetensorsMetadataKey), "\" entry \"", Printable(key),
                         "\" is ", JsonTypeWithArticle(meta), ", expected a string");
        }
        file->metadata_.emplace(key, meta.get<std::string>());
      }
      continue;
    }
    const std::string& tensor_name = name;
    auto bad = [&](auto&&... parts) {
      return corrupt("tensor \"", Printable(tensor_name), "\": ", parts...);
    };
    if (name.empty()) return corrupt("header has a tensor with an empty name");
    if (!value.is_object()) {
      return bad("entry is ", JsonTypeWithArticle(value), ", expected an object");
    }

    const auto dtype_it = value.find("dtype");
    if (dtype_it == value.end()) return bad("missing \"dtype\"");
    if (!dtype_it->is_string()) {
      return bad("\"dtype\" is ", JsonTypeWithArticle(*dtype_it), ", expected a string");
    }
    absl::StatusOr<DType> dtype = ParseDType(dtype_it->get_ref<const std::string&>());
    if (!dtype.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": tensor \"", Printable(name), "\": unsupported dtype \"",
                       Printable(dtype_it->get_ref<const std::string&>()), "\""));
    }

    const auto shape_it = value.find("shape");
    if (shape_it == value.end()) return bad("missing \"shape\"");
    if (!shape_it->is_array()) {
      return bad("\"shape\" is ", JsonTypeWithArticle(*shape_it), ", expected an array");
    }
    std::vector<int64_t> shape;
    int64_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < shape_it->size(); ++i) {
      uint64_t dim;
      if (!AsNonNegativeInt((*shape_it)[i], &dim)) {
        return bad("shape ", ShortDump(*shape_it), ": dimension ", i, " is ",
                   ShortDump((*shape_it)[i]), ", expected a non-negative integer");
      }
      shape.push_back(static_cast<int64_t>(dim));
      overflow |= __builtin_mul_overflow(numel, static_cast<int64_t>(dim), &numel);
    }
    int64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, static_cast<int64_t>(DTypeSize(*dtype)), &nbytes);
    // A shape with a zero dimension holds nothing, whatever the other dimensions say.
    if (overflow && std::find(shape.begin(), shape.end(), 0) == shape.end()) {
      return bad("shape ", ShapeString(shape), " of ", std::string(DTypeName(*dtype)),
                 " overflows 64 bits");
    }
    if (overflow) nbytes = 0;

    const auto offsets_it = value.find("data_offsets");
    if (offsets_it == value.end()) return bad("missing \"data_offsets\"");
    uint64_t begin, end;
    if (!offsets_it->is_array() || offsets_it->size() != 2 ||
        !AsNonNegativeInt((*offsets_it)[0], &begin) || !AsNonNegativeInt((*offsets_it)[1], &end)) {
      return bad("\"data_offsets\" is ", ShortDump(*offsets_it),
                 ", expected [begin, end] as non-negative integers");
    }
    const std::string offsets = absl::StrCat("data_offsets [", begin, ", ", end, "]");
    if (begin > end) return bad(offsets, " begin after end");
    if (end - begin != static_cast<uint64_t>(nbytes)) {
      return bad(offsets, " hold ", end - begin, " bytes but ", std::string(DTypeName(*dtype)), " ",
                 ShapeString(shape), " needs ", nbytes);
    }
    if (end > buffer_size) {
      return bad(offsets, " end beyond the ", buffer_size, "-byte data buffer (file truncated?)");
    }
    const auto [it, inserted] =
        file->entries_.emplace(name, Entry{*dtype, std::move(shape), begin, end});
    if (!inserted) return corrupt("header names \"", Printable(name), "\" twice");  // see callback
    ranges.push_back(Range{begin, end, &it->first});
  }

  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return std::tie(a.begin, a.end, *a.name) < std::tie(b.begin, b.end, *b.name);
  });
  for (const Range& r : ranges) file->names_.push_back(*r.name);

  // Every byte of the buffer belongs to exactly one tensor. Empty tensors own no bytes, so they
  // can neither overlap nor fill a hole.
  uint64_t covered = 0;
  const Range* previous = nullptr;
  for (const Range& r : ranges) {
    if (r.begin == r.end) continue;
    if (r.begin < covered) {
      return corrupt("tensor \"", Printable(*r.name), "\": data_offsets [", r.begin, ", ", r.end,
                     "] overlap tensor \"", Printable(*previous->name), "\" at [", previous->begin,
                     ", ", previous->end, "]");
    }
    if (r.begin > covered) {
      return corrupt("bytes [", covered, ", ", r.begin, ") of the data buffer belong to no tensor",
                     previous != nullptr ? absl::StrCat(" (between \"", Printable(*previous->name),
                                                        "\" and \"", Printable(*r.name), "\")")
                                         : absl::StrCat(" (before \"", Printable(*r.name), "\")"));
    }
    covered = r.end;
    previous = &r;
  }
  if (covered != buffer_size) {
    return corrupt("bytes [", covered, ", ", buffer_size,
                   ") at the end of the data buffer belong to no tensor");
  }
  return file;
}

absl::StatusOr<TensorView> SafetensorsFile::Get(std::string_view name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(
        absl::StrCat(path().string(), ": no tensor \"", Printable(name), "\""));
  }
  const Entry& e = it->second;
  return TensorView{it->first, e.dtype, e.shape, data_.subspan(e.begin, e.end - e.begin)};
}

}  // namespace accllm
