// A directory only this user can enter (mode 0700), for the Unix sockets the
// server and its local worker talk over: the file system, not a certificate,
// keeps other users out. Removed with everything in it when destroyed.
#ifndef ACCLLM_SERVER_SOCKET_DIRECTORY_H_
#define ACCLLM_SERVER_SOCKET_DIRECTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

class SocketDirectory {
 public:
  static absl::StatusOr<std::unique_ptr<SocketDirectory>> Create();
  ~SocketDirectory();

  // "unix:<dir>/<name>.sock"
  std::string Address(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  explicit SocketDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_SOCKET_DIRECTORY_H_
