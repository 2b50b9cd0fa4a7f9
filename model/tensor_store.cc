#include "model/tensor_store.h"

#include <nlohmann/json.hpp>  // nlohmann::json
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "absl/strings/str_format.h"  // absl::StrFormat
#include "model/json_util.h"  // DescribeJsonError, JsonTypeWithArticle
#include "model/file_util.h"          // WriteFileAtomically
#include "model/mapped_file.h"        // MappedFile

namespace accllm {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;


// Keeps the code of `status` and puts `prefix` before its message.
absl::Status WithPrefix(const std::string& prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}


// A shard named by the index must stay inside the model directory.
bool IsSafeRelativePath(const fs::path& p) {
  if (p.empty() || p.has_root_path()) return false;
  for (const fs::path& part : p) {
    if (part == "..") return false;
  }
  return true;
}

// "model-00001-of-00003.safetensors", as Hugging Face names shards.
bool IsShardFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "model-", kSuffix = ".safetensors", kOf = "-of-";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return false;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  const size_t of = name.find(kOf);
  if (of == std::string_view::npos) return false;
  auto all_digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return all_digits(name.substr(0, of)) && all_digits(name.substr(of + kOf.size()));
}

absl::Status RemoveIfPresent(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot remove stale ", path.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TensorStore>> TensorStore::OpenDir(const fs::path& dir) {
  std::unique_ptr<TensorStore> store(new TensorStore(dir));
  const fs::path index_path = dir / kSafetensorsIndexFileName;
  const fs::path single_path = dir / kSafetensorsFileName;
  std::error_code ec;

  if (!fs::exists(index_path, ec)) {
    if (!fs::exists(single_path, ec)) {
      if (!fs::is_directory(dir, ec)) {
        return absl::NotFoundError(absl::StrCat("model directory ", dir.string(), " not found"));
      }
      return absl::NotFoundError(absl::StrCat(dir.string(), " has neither ",
                                              std::string(kSafetensorsFileName), " nor ",
                                              std::string(kSafetensorsIndexFileName)));
    }
    absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(single_path);
    if (!file.ok()) return file.status();
    for (const std::string& name : (*file)->TensorNames()) store->where_.emplace(name, file->get());
    store->total_bytes_ = (*file)->data_bytes();
    store->files_.push_back(*std::move(file));
    return store;
  }

  const std::string where = index_path.string();
  absl::StatusOr<std::shared_ptr<const MappedFile>> index_file = MappedFile::Open(index_path);
  if (!index_file.ok()) return index_file.status();
  const std::span<const std::byte> bytes = (*index_file)->bytes();
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const Json index = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded()) {
    return absl::DataLossError(absl::StrCat(where, ": not valid JSON: ", DescribeJsonError(text)));
  }
  if (!index.is_object()) {
    return absl::DataLossError(
        absl::StrCat(where, ": is ", JsonTypeWithArticle(index), ", expected an object"));
  }
  const auto map_it = index.find("weight_map");
  if (map_it == index.end()) {
    return absl::DataLossError(absl::StrCat(where, ": missing \"weight_map\""));
  }
  if (!map_it->is_object()) {
    return absl::DataLossError(absl::StrCat(where, ": \"weight_map\" is ",
                                            JsonTypeWithArticle(*map_it), ", expected an object"));
  }

  std::map<fs::path, const SafetensorsFile*> shards;  // by normalized relative path
  for (const auto& [name, shard_json] : map_it->items()) {
    const std::string tensor = absl::StrCat(where, ": tensor \"", name, "\"");
    if (!shard_json.is_string()) {
      return absl::DataLossError(absl::StrCat(tensor, " maps to ", JsonTypeWithArticle(shard_json),
                                              ", expected a shard file name"));
    }
    const std::string& shard_name = shard_json.get_ref<const std::string&>();
    const fs::path relative = fs::path(shard_name).lexically_normal();
    if (!IsSafeRelativePath(fs::path(shard_name))) {
      return absl::InvalidArgumentError(absl::StrCat(
          tensor, ": shard \"", shard_name, "\" is not a relative path inside ", dir.string()));
    }
    auto shard_it = shards.find(relative);
    if (shard_it == shards.end()) {
      const fs::path shard_path = dir / relative;
      const std::string context = absl::StrCat(tensor, ": shard \"", shard_name, "\": ");
      if (!fs::exists(shard_path, ec)) {
        return absl::NotFoundError(
            absl::StrCat(context, "file ", shard_path.string(), " is missing"));
      }
      absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(shard_path);
      if (!file.ok()) return WithPrefix(context, file.status());
      shard_it = shards.emplace(relative, file->get()).first;
      store->files_.push_back(*std::move(file));
    }
    const SafetensorsFile& shard = *shard_it->second;
    absl::StatusOr<TensorView> view = shard.Get(name);
    if (!view.ok()) {
      return absl::DataLossError(
          absl::StrCat(tensor, ": shard \"", shard_name, "\" does not contain it"));
    }
    store->total_bytes_ += static_cast<int64_t>(view->data.size());
    store->where_.emplace(name, &shard);
  }
  return store;
}

std::vector<std::string> TensorStore::TensorNames() const {
  std::vector<std::string> names;
  names.reserve(where_.size());
  for (const auto& [name, file] : where_) names.push_back(name);
  return names;
}

absl::StatusOr<TensorView> TensorStore::Get(std::string_view name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) {
    return absl::NotFoundError(
        absl::StrCat(dir_.string(), ": no tensor \"", std::string(name), "\" in the model"));
  }
  return it->second->Get(name);
}

absl::Status WriteTensorsToDir(const SafetensorsWriter& writer, const fs::path& dir,
                               int64_t max_shard_bytes) {
  if (max_shard_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_shard_bytes must be positive, got ", max_shard_bytes));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  const fs::path index_path = dir / kSafetensorsIndexFileName;
  const fs::path single_path = dir / kSafetensorsFileName;

  // New files first, then the removals, so that a reader racing with us, or a crash in between,
  // finds either the old model or the new one: the index wins over model.safetensors.
  std::vector<SafetensorsWriter> shards;
  if (writer.data_bytes() > max_shard_bytes) shards = writer.SplitIntoShards(max_shard_bytes);
  std::set<std::string> keep;
  if (shards.size() <= 1) {  // also when one tensor alone exceeds the limit
    if (absl::Status s = writer.Write(single_path); !s.ok()) return s;
    if (absl::Status s = RemoveIfPresent(index_path); !s.ok()) return s;
  } else {
    Json weight_map = Json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string name =
          absl::StrFormat("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      if (absl::Status s = shards[i].Write(dir / name); !s.ok()) return s;
      for (const std::string& tensor : shards[i].TensorNames()) weight_map[tensor] = name;
      keep.insert(name);
    }
    Json index = {{"metadata", {{"total_size", writer.data_bytes()}}},
                  {"weight_map", std::move(weight_map)}};
    const std::string text = index.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
    if (absl::Status s = WriteFileAtomically(index_path, text); !s.ok()) return s;
    if (absl::Status s = RemoveIfPresent(single_path); !s.ok()) return s;
  }
  // Listed first and removed after: deleting while iterating leaves the listing unspecified.
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (IsShardFileName(name) && !keep.contains(name)) stale.push_back(it->path());
  }
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  }
  for (const fs::path& path : stale) {
    if (absl::Status s = RemoveIfPresent(path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace accllm
