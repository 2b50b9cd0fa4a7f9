#include "server/admission.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "server/server_metrics.h"  // ServerMetrics

namespace accllm {

Admission::Admission(AdmissionLimits limits, ServerMetrics* metrics)
    : limits_(limits), metrics_(metrics) {}

absl::Status Admission::Enter(Abort abort, Start start, uint64_t* ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  if (draining_) {
    if (metrics_ != nullptr) metrics_->CountAdmissionRejected("draining");
    return absl::UnavailableError("the server is shutting down; send the request elsewhere");
  }
  const bool slot_free = limits_.max_streams <= 0 || running_ < limits_.max_streams;
  if (!slot_free && static_cast<int>(queue_.size()) >= limits_.max_waiting) {
    if (metrics_ != nullptr) metrics_->CountAdmissionRejected("busy");
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is busy: ", running_, " streams running (--max-streams ",
        limits_.max_streams, ") and ", queue_.size(), " waiting (--max-waiting ",
        limits_.max_waiting, "); retry in a second or two"));
  }
  *ticket = next_++;
  Entry& entry = active_[*ticket];
  entry.abort = std::move(abort);
  if (!slot_free) {
    entry.start = std::move(start);
    queue_.push_back(*ticket);
    Publish();
    return absl::OkStatus();
  }
  entry.running = true;
  ++running_;
  Publish();
  lock.unlock();
  start();
  return absl::OkStatus();
}

void Admission::Leave(uint64_t ticket) {
  Start next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(ticket);
    if (it == active_.end()) return;
    if (it->second.running) {
      --running_;
    } else {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), ticket), queue_.end());
    }
    active_.erase(it);
    // The freed slot goes to the oldest waiting stream (none while draining:
    // Drain hands those back).
    if (!draining_ && !queue_.empty() &&
        (limits_.max_streams <= 0 || running_ < limits_.max_streams)) {
      Entry& waiting = active_.at(queue_.front());
      queue_.pop_front();
      waiting.running = true;
      ++running_;
      next = std::move(waiting.start);
    }
    Publish();
    cv_.notify_all();
  }
  if (next) next();
}

void Admission::Publish() {
  if (metrics_ != nullptr) metrics_->SetAdmission(running_, static_cast<int64_t>(queue_.size()));
}

bool Admission::draining() const {
  std::lock_guard<std::mutex> lock(mu_);
  return draining_;
}

int Admission::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(active_.size());
}

int Admission::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

int Admission::Drain(std::chrono::milliseconds grace) {
  std::vector<Abort> aborts;
  {
    std::unique_lock<std::mutex> lock(mu_);
    draining_ = true;
    // Waiting streams would never start: hand them back at once.
    for (uint64_t ticket : queue_) aborts.push_back(active_.at(ticket).abort);
  }
  for (const Abort& abort : aborts) {
    abort(absl::UnavailableError("the server is shutting down; send the request elsewhere"));
  }
  const int handed_back = static_cast<int>(aborts.size());
  aborts.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, grace, [this] { return running_ == 0; });
    for (const auto& [ticket, entry] : active_) {
      if (entry.running) aborts.push_back(entry.abort);
    }
  }
  for (const Abort& abort : aborts) {
    abort(absl::UnavailableError(
        "the server shut down before this stream finished; retry on another server"));
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [this] { return active_.empty(); });
  return handed_back + static_cast<int>(aborts.size());
}

}  // namespace accllm
