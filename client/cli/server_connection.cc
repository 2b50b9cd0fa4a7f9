#include "client/cli/server_connection.h"

#include <algorithm>
#include <cmath>
#include <csignal>

#include "absl/flags/flag.h"                 // absl::GetFlag
#include "absl/strings/str_cat.h"            // absl::StrCat
#include "client/cli/flags.h"                // FLAGS_server, FLAGS_connect_timeout
#include "common/bearer_token.h"             // ResolveBearerToken
#include "google/protobuf/util/json_util.h"  // MessageToJsonString

namespace accllm::cli {

namespace {

// Set by the signal handler (async-signal-safe: a lock-free atomic store only).
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

}  // namespace

absl::StatusOr<std::unique_ptr<client::Client>> ConnectToServer() {
  const double seconds = absl::GetFlag(FLAGS_connect_timeout);
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connect-timeout must be a positive number of seconds, got ", seconds));
  }
  client::ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(
      std::max<int64_t>(1, static_cast<int64_t>(std::llround(seconds * 1000.0))));
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  absl::StatusOr<std::string> token = ResolveBearerToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return token.status();
  options.token = *std::move(token);
  return client::Client::Connect(absl::GetFlag(FLAGS_server), options);
}

CancelOnInterrupt::CancelOnInterrupt(client::Client& client) : client_(client) {
  g_interrupted.store(false);
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  watcher_ = std::thread([this] {
    while (!stop_.load()) {
      if (g_interrupted.load()) {
        client_.CancelAll();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

CancelOnInterrupt::~CancelOnInterrupt() {
  stop_.store(true);
  watcher_.join();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

bool CancelOnInterrupt::interrupted() const { return g_interrupted.load(); }

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
  return out;
}

std::string EnumSuffix(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace accllm::cli
