#include "server/admission.h"

#include <vector>

namespace accllm {

absl::Status Admission::Enter(Abort abort, uint64_t* ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) {
    return absl::UnavailableError("the server is shutting down; send the request elsewhere");
  }
  *ticket = next_++;
  active_.emplace(*ticket, std::move(abort));
  return absl::OkStatus();
}

void Admission::Leave(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(ticket);
  cv_.notify_all();
}

bool Admission::draining() const {
  std::lock_guard<std::mutex> lock(mu_);
  return draining_;
}

int Admission::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(active_.size());
}

int Admission::Drain(std::chrono::milliseconds grace) {
  std::vector<Abort> aborts;
  {
    std::unique_lock<std::mutex> lock(mu_);
    draining_ = true;
    cv_.wait_for(lock, grace, [this] { return active_.empty(); });
    for (const auto& [ticket, abort] : active_) aborts.push_back(abort);
  }
  for (const Abort& abort : aborts) {
    abort(absl::UnavailableError(
        "the server shut down before this stream finished; retry on another server"));
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [this] { return active_.empty(); });
  return static_cast<int>(aborts.size());
}

}  // namespace accllm
