// The narrow waist between the step logic and a device, at step granularity: a Backend loads a
// packed model into its device's memory once (BackendModel) with the model's KV page pool
// there, and runs whole steps. A card keeps weights and KV pages in HBM and runs every layer
// of a step in one or two launches; a per-linear seam would cross PCIe per matrix.
//
// What every backend shares lives beside this file, not in the backends: BackendWorker
// (page-copy checks, token checks, sampling seeded by (seed, position)), so a CPU worker and
// an FPGA worker produce the same tokens and a recomputed sequence continues exactly.
#ifndef ACCLLM_WORKERS_BACKEND_BACKEND_H_
#define ACCLLM_WORKERS_BACKEND_BACKEND_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/config.h"          // ModelConfig
#include "model/model_dir.h"       // ModelDir
#include "quant/kv_quant.h"        // KvFormat
#include "scheduler/worker.h"      // SequenceChunk

namespace accllm {

// What a device did since its model was loaded (the FPGA's are counted by the card).
struct DeviceCounters {
  int64_t bytes_read = 0;     // device memory read by the kernels
  int64_t bytes_written = 0;  // device memory written by the kernels
  int64_t launches = 0;       // kernel launches
  double kernel_seconds = 0;  // the card's modelled kernel time (0 where not modelled)
  int64_t steps = 0;
};

struct BackendLoadOptions {
  int32_t kv_pages = 2048;  // the pool's pages
  int32_t page_size = 16;   // positions per page (P)
  int threads = 0;          // host threads for the CPU backend (0: all cores)
};

// One model in a device's memory, with its KV page pool there.
class BackendModel {
 public:
  virtual ~BackendModel() = default;

  virtual const ModelConfig& config() const = 0;
  virtual KvFormat kv_format() const = 0;  // the pool's (bits 16: float)
  virtual int32_t num_pages() const = 0;
  virtual int32_t page_size() const = 0;
  // Copy-on-write of a shared prefix page (both in range: checked by the caller).
  virtual absl::Status CopyPage(int32_t from, int32_t to) = 0;
  // Runs the chunks of one step, every chunk's tokens in one pass over the weights; a chunk
  // with `sample` gets the logits of its last token in logits[c] ([vocab_size], resized by
  // the backend), others leave logits[c] empty. Tokens and pages were checked by the caller.
  virtual absl::Status Forward(std::span<const scheduler::SequenceChunk> chunks,
                               std::vector<std::vector<float>>& logits) = 0;
  // Bytes of weights one step streams (every linear and the head).
  virtual int64_t WeightBytesPerStep() const = 0;
  // Host wall time per phase of the forward pass since load, (name, seconds) in a fixed
  // order, where the backend times them (the CPU's: embed, norm, qkv, attention, ...; see
  // workers/engine/phase_clock.h); empty where it does not. For benchmarks, not per step.
  virtual std::vector<std::pair<std::string, double>> PhaseSeconds() const { return {}; }
  // Average stored bits per decoder linear weight (scales, zeros, masks included).
  virtual double LinearBitsPerWeight() const = 0;
  // Safe to call while a step runs (metrics and heartbeats read them).
  virtual DeviceCounters counters() const { return {}; }
};

// A device: the CPU, the emulated card, or a card through XRT.
class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu/AVX2", "fpga-emu", "fpga:0": the metrics label and what `accllm workers` shows.
  virtual std::string name() const = 0;
  virtual absl::StatusOr<std::unique_ptr<BackendModel>> Load(const ModelDir& dir,
                                                             const BackendLoadOptions& options) = 0;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_BACKEND_BACKEND_H_
