#include "model/safetensors_writer.h"


#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>  // nlohmann::json
#include <utility>

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "absl/strings/str_join.h"  // absl::StrJoin
#include "model/file_util.h"        // AtomicFile
#include "model/safetensors.h"      // kMaxSafetensorsHeaderBytes, kSafetensorsMetadataKey

namespace accllm {

namespace {

using Json = nlohmann::json;

// The JSON header must be UTF-8 (readers reject anything else), so names are checked up front
// rather than discovered as an unreadable file. Follows RFC 3629: no overlongs, no surrogates.
bool IsValidUtf8(std::string_view s) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

std::string JsonString(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}


}  // namespace

absl::Status SafetensorsWriter::Add(std::string name, DType dtype, std::vector<int64_t> shape,
                                    std::span<const std::byte> data) {
  return AddEntry(Entry{std::move(name), dtype, std::move(shape), static_cast<int64_t>(data.size()),
                        data, nullptr});
}

absl::Status SafetensorsWriter::AddGenerated(std::string name, DType dtype,
                                             std::vector<int64_t> shape, FillFn fill) {
  if (!fill) {
    return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\": no fill function"));
  }
  return AddEntry(Entry{std::move(name), dtype, std::move(shape), -1, {}, std::move(fill)});
}

// entry.nbytes is the size of the given data, or -1 for a generated tensor.
absl::Status SafetensorsWriter::AddEntry(Entry entry) {
  const std::string& name = entry.name;
  if (name.empty()) return absl::InvalidArgumentError("tensor name is empty");
  if (name == kSafetensorsMetadataKey) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor name \"", name, "\" is reserved for the file's metadata"));
  }
  if (!IsValidUtf8(name)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor name \"", name, "\" is not UTF-8"));
  }
  if (names_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("tensor \"", name, "\" added twice"));
  }
  const std::string shape_string = absl::StrCat("[", absl::StrJoin(entry.shape, ", "), "]");
  int64_t numel = 1;
  bool overflow = false;
  for (int64_t dim : entry.shape) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", name, "\": shape ", shape_string, " has a negative dimension"));
    }
    overflow |= __builtin_mul_overflow(numel, dim, &numel);
  }
  int64_t nbytes;
  overflow |= __builtin_mul_overflow(numel, static_cast<int64_t>(DTypeSize(entry.dtype)), &nbytes);
  if (std::find(entry.shape.begin(), entry.shape.end(), 0) != entry.shape.end()) {
    overflow = false;  // holds nothing, however large the other dimensions
    nbytes = 0;
  }
  if (overflow) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor \"", name, "\": shape ", shape_string, " is too large"));
  }
  int64_t total;
  if (__builtin_add_overflow(data_bytes_, nbytes, &total)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor \"", name, "\": shape ", shape_string,
        " would take the file's data past 2^63 - 1 bytes (", data_bytes_, " already added)"));
  }
  if (entry.nbytes >= 0 && entry.nbytes != nbytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor \"", name, "\": ", entry.nbytes, " bytes of data but ",
                     std::string(DTypeName(entry.dtype)), " ", shape_string, " needs ", nbytes));
  }
  entry.nbytes = nbytes;
  data_bytes_ = total;
  names_.insert(name);
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

void SafetensorsWriter::SetMetadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

std::vector<std::string> SafetensorsWriter::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const Entry& e : entries_) names.push_back(e.name);
  return names;
}

std::vector<SafetensorsWriter> SafetensorsWriter::SplitIntoShards(int64_t max_shard_bytes) const {
  std::vector<SafetensorsWriter> shards;
  for (const Entry& e : entries_) {
    // Greedy: the running shard takes the tensor unless that would push it over the limit.
    if (shards.empty() || (!shards.back().entries_.empty() &&
                           shards.back().data_bytes_ + e.nbytes > max_shard_bytes)) {
      shards.emplace_back();
      shards.back().metadata_ = metadata_;
    }
    SafetensorsWriter& shard = shards.back();
    shard.entries_.push_back(e);
    shard.names_.insert(e.name);
    shard.data_bytes_ += e.nbytes;
  }
  return shards;
}

absl::Status SafetensorsWriter::Write(const std::filesystem::path& path) const {
  // The header is built as text: entries keep insertion order without a quadratic ordered map.
  std::string header = "{";
  if (!metadata_.empty()) {
    std::vector<std::string> pairs;
    for (const auto& [key, value] : metadata_) {
      if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path.string(), ": metadata \"", key, "\" is not UTF-8"));
      }
      pairs.push_back(absl::StrCat(JsonString(key), ":", JsonString(value)));
    }
    absl::StrAppend(&header, "\"", std::string(kSafetensorsMetadataKey), "\":{",
                    absl::StrJoin(pairs, ","), "}");
  }
  int64_t offset = 0;
  for (const Entry& e : entries_) {
    if (header.size() > 1) header += ',';
    absl::StrAppend(&header, JsonString(e.name), ":{\"dtype\":\"", std::string(DTypeName(e.dtype)),
                    "\",\"shape\":[", absl::StrJoin(e.shape, ","), "],\"data_offsets\":[", offset,
                    ",", offset + e.nbytes, "]}");
    offset += e.nbytes;
  }
  header += '}';
  // Pad with spaces so the data buffer starts 8-byte aligned in the file.
  header.append((8 - (8 + header.size()) % 8) % 8, ' ');
  if (header.size() > kMaxSafetensorsHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": header of ", header.size(),
                                                   " bytes exceeds the readers' limit of ",
                                                   kMaxSafetensorsHeaderBytes));
  }

  AtomicFile out;
  if (absl::Status s = out.Create(path); !s.ok()) return s;
  std::byte length[8];
  for (int i = 0; i < 8; ++i) {
    length[i] = static_cast<std::byte>((static_cast<uint64_t>(header.size()) >> (8 * i)) & 0xff);
  }
  if (absl::Status s = out.Append(length); !s.ok()) return s;
  if (absl::Status s = out.Append(std::as_bytes(std::span(header))); !s.ok()) return s;
  std::vector<std::byte> buffer;  // one generated tensor at a time, reused
  for (const Entry& e : entries_) {
    std::span<const std::byte> bytes = e.data;
    if (e.fill) {
      buffer.assign(static_cast<size_t>(e.nbytes), std::byte{0});
      e.fill(std::span<std::byte>(buffer));
      bytes = buffer;
    }
    if (absl::Status s = out.Append(bytes); !s.ok()) return s;
  }
  return out.Commit(path);
}

}  // namespace accllm
