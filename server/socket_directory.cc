#include "server/socket_directory.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<std::unique_ptr<SocketDirectory>> SocketDirectory::Create() {
  // A socket path is at most 107 bytes: a long $TMPDIR falls back to /tmp.
  std::error_code ec;
  std::string base = std::filesystem::temp_directory_path(ec).string();
  if (ec || base.size() > 60) base = "/tmp";
  std::string pattern = base + "/accllm-server-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {  // mkdtemp makes it 0700
    return absl::InternalError(
        absl::StrCat("cannot create a socket directory in ", base, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<SocketDirectory>(new SocketDirectory(buffer.data()));
}

SocketDirectory::~SocketDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string SocketDirectory::Address(const std::string& name) const {
  return absl::StrCat("unix:", path_, "/", name, ".sock");
}

}  // namespace accllm
