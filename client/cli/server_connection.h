// What the serving commands (generate, models, workers, bench-serve) share:
// connecting with --server / --connect-timeout, Ctrl-C cancelling calls, and
// printing protobuf messages as JSON and rows as aligned tables.
#ifndef ACCLLM_CLIENT_CLI_SERVER_CONNECTION_H_
#define ACCLLM_CLIENT_CLI_SERVER_CONNECTION_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"     // absl::StatusOr
#include "client/lib/client.h"        // client::Client
#include "google/protobuf/message.h"  // google::protobuf::Message

namespace accllm::cli {

// Connects to --server, waiting at most --connect-timeout seconds.
absl::StatusOr<std::unique_ptr<client::Client>> ConnectToServer();

// While alive, SIGINT and SIGTERM cancel every call of `client` (a watcher
// thread does the cancelling: a signal handler may only set a flag).
class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(client::Client& client);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;
  bool interrupted() const;

 private:
  client::Client& client_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

// Proto3 JSON with every field present (zeros and empty lists included) and the
// .proto field names, on one line.
std::string ToJson(const google::protobuf::Message& message);

// Columns padded to their widest cell, two spaces apart, header first.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "MODEL_STATE_READY" → "READY": an enum value name without its type prefix.
std::string EnumSuffix(const std::string& name, const std::string& prefix);

}  // namespace accllm::cli

#endif  // ACCLLM_CLIENT_CLI_SERVER_CONNECTION_H_
