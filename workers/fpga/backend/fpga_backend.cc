#include "workers/fpga/backend/fpga_backend.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"                 // absl::StrCat
#include "absl/time/time.h"                       // absl::Seconds
#include "model/rope.h"                           // Rope
#include "workers/fpga/backend/model_placement.h" // PlaceModel, bank plan
#include "workers/fpga/cost/card_spec.h"          // LookupCard
#include "workers/fpga/host/emulated_device.h"    // EmulatedDevice
#include "workers/fpga/host/xrt_device.h"         // XrtDevice
#include "workers/fpga/kernels/decoder_step.h"    // DecoderStep, kMaxStepTokens
#include "workers/fpga/kernels/step_command.h"    // StepCommandWriter

namespace accllm {
namespace {

using fpga::DeviceRef;

constexpr char kDecoderKernel[] = "accllm_decoder";
// A step is a few ms to seconds on the card; a launch still running after this is a hung card.
constexpr absl::Duration kStepTimeout = absl::Seconds(600);

// Launch arguments in the kernel top's order (decoder_step.h): every bank, then the three
// refs as (bank, offset, bytes) scalars.
fpga::KernelArgs DecoderArgs(const DeviceRef& desc, const DeviceRef& cmd,
                             const DeviceRef& logits) {
  fpga::KernelArgs args;
  for (int b = 0; b < fpga::kMaxBanks; ++b) args.buffers.push_back(fpga::WholeBank(b));
  for (const DeviceRef* r : {&desc, &cmd, &logits}) {
    args.scalars.push_back(static_cast<uint64_t>(static_cast<int64_t>(r->bank)));
    args.scalars.push_back(r->offset);
    args.scalars.push_back(r->bytes);
  }
  return args;
}

DeviceRef RefFromScalars(const fpga::KernelArgs& args, size_t i) {
  DeviceRef r;
  r.bank = static_cast<int32_t>(static_cast<int64_t>(args.scalars[i]));
  r.offset = args.scalars[i + 1];
  r.bytes = args.scalars[i + 2];
  return r;
}

// The emulated card's accllm_decoder: the kernel function in C simulation.
absl::Status EmulatedDecoder(const fpga::DeviceMemory& mem, const fpga::KernelArgs& args) {
  if (args.scalars.size() != 9) {
    return absl::InvalidArgumentError(
        absl::StrCat(kDecoderKernel, " takes 9 scalars, got ", args.scalars.size()));
  }
  const int32_t status = fpga::DecoderStep(mem, RefFromScalars(args, 0), RefFromScalars(args, 3),
                                           RefFromScalars(args, 6));
  if (status != fpga::kKernelOk) {
    return absl::InternalError(absl::StrCat(kDecoderKernel, " rejected the step: ",
                                            fpga::KernelStatusName(status)));
  }
  return absl::OkStatus();
}

// One model on the card. Steps run one at a time (the worker serializes them).
class FpgaModel : public BackendModel {
 public:
  FpgaModel(std::shared_ptr<fpga::Device> device, ModelConfig config, fpga::PlacedModel placed)
      : device_(std::move(device)),
        config_(std::move(config)),
        placed_(std::move(placed)),
        rope_(config_.head_dim(), config_.rope_theta) {}
  ~FpgaModel() override {
    for (DeviceRef* r : {&command_, &logits_}) {
      if (r->present()) (void)device_->Free(*r);
    }
    (void)placed_.Free(*device_);
  }

  const ModelConfig& config() const override { return config_; }
  KvFormat kv_format() const override { return placed_.kv_format; }
  int32_t num_pages() const override { return placed_.desc.num_pages; }
  int32_t page_size() const override { return placed_.desc.page_size; }
  int64_t WeightBytesPerStep() const override { return placed_.weight_bytes_per_step; }
  double LinearBitsPerWeight() const override { return placed_.linear_bits_per_weight; }
  DeviceCounters counters() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }

  absl::Status CopyPage(int32_t from, int32_t to) override {
    const uint64_t bytes = static_cast<uint64_t>(placed_.desc.kv.page_bytes);
    const DeviceRef& pool = placed_.desc.kv_pool;
    return device_->Copy(pool, static_cast<uint64_t>(to) * bytes, pool,
                         static_cast<uint64_t>(from) * bytes, bytes);
  }

  absl::Status Forward(std::span<const scheduler::SequenceChunk> chunks,
                       std::vector<std::vector<float>>& logits) override {
    // A step of more tokens than the kernel's buffers hold runs as several launches, in
    // order: a later piece of a chunk reads the K/V an earlier piece stored.
    std::vector<Piece> pieces;
    for (size_t c = 0; c < chunks.size(); ++c) {
      const int32_t n = static_cast<int32_t>(chunks[c].tokens.size());
      for (int32_t b = 0; b < n; b += fpga::kMaxStepTokens) {
        pieces.push_back({c, b, std::min(n, b + fpga::kMaxStepTokens)});
      }
    }
    size_t i = 0;
    while (i < pieces.size()) {
      int32_t tokens = 0;
      size_t j = i;
      while (j < pieces.size() && tokens + (pieces[j].end - pieces[j].begin) <=
                                      fpga::kMaxStepTokens) {
        tokens += pieces[j].end - pieces[j].begin;
        ++j;
      }
      if (absl::Status s = Launch(chunks, {pieces.data() + i, j - i}, logits); !s.ok()) return s;
      i = j;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.steps;
    return absl::OkStatus();
  }

 private:
  struct Piece {
    size_t chunk;
    int32_t begin, end;  // token range of the chunk
  };

  // Grows a per-step buffer in the I/O bank to `bytes`.
  absl::Status Reserve(DeviceRef& ref, uint64_t bytes) {
    if (ref.present() && ref.bytes >= bytes) return absl::OkStatus();
    if (ref.present()) {
      if (absl::Status s = device_->Free(ref); !s.ok()) return s;
      ref = {};
    }
    absl::StatusOr<DeviceRef> r =
        device_->Allocate(fpga::kIoBank, std::max<uint64_t>(bytes, uint64_t{64} << 10));
    if (!r.ok()) return r.status();
    ref = *r;
    return absl::OkStatus();
  }

  absl::Status Launch(std::span<const scheduler::SequenceChunk> chunks,
                      std::span<const Piece> pieces, std::vector<std::vector<float>>& logits) {
    const int32_t head_dim = placed_.desc.head_dim;
    int32_t n_tokens = 0, n_pages = 0, n_rope = 0, n_logits = 0;
    std::vector<fpga::StepSequence> seqs(pieces.size());
    for (size_t s = 0; s < pieces.size(); ++s) {
      const scheduler::SequenceChunk& chunk = chunks[pieces[s].chunk];
      fpga::StepSequence& seq = seqs[s];
      seq.rule = chunk.attention;
      seq.page_first = n_pages;
      seq.page_count = static_cast<int32_t>(chunk.pages.size());
      const int64_t first = chunk.first_position + pieces[s].begin;
      const int64_t last = chunk.first_position + pieces[s].end - 1;
      fpga::SequenceRopeRuns(seq.rule, first, last, &seq.rope, &seq.sink_rope);
      seq.rope.first_row = n_rope;
      n_rope += seq.rope.rows;
      seq.sink_rope.first_row = n_rope;
      n_rope += seq.sink_rope.rows;
      n_pages += seq.page_count;
      n_tokens += pieces[s].end - pieces[s].begin;
      const bool wants = chunk.sample && pieces[s].end == static_cast<int32_t>(chunk.tokens.size());
      if (wants) ++n_logits;
    }
    const fpga::StepHeader header =
        fpga::ComputeStepLayout(n_tokens, static_cast<int32_t>(seqs.size()), n_pages, n_rope,
                                head_dim, n_logits);
    std::vector<uint8_t> command(header.total_bytes);
    fpga::StepCommandWriter writer(header, command.data());
    std::vector<float> row(static_cast<size_t>(head_dim));
    std::vector<size_t> logits_chunk;  // logits row -> chunk
    int32_t t = 0;
    for (size_t s = 0; s < pieces.size(); ++s) {
      const scheduler::SequenceChunk& chunk = chunks[pieces[s].chunk];
      const fpga::StepSequence& seq = seqs[s];
      writer.SetSequence(static_cast<int32_t>(s), seq);
      for (int32_t p = 0; p < seq.page_count; ++p) {
        writer.SetPage(seq.page_first + p, {.logical = chunk.pages[p].logical,
                                            .physical = chunk.pages[p].physical,
                                            .reserved = 0});
      }
      for (const fpga::RopeRun* run : {&seq.rope, &seq.sink_rope}) {
        for (int32_t r = 0; r < run->rows; ++r) {
          rope_.Row(run->first_pos + r, row.data());
          writer.SetRopeRow(run->first_row + r, row.data());
        }
      }
      for (int32_t i = pieces[s].begin; i < pieces[s].end; ++i) {
        const bool wants = chunk.sample && i + 1 == static_cast<int32_t>(chunk.tokens.size());
        int32_t logits_row = -1;
        if (wants) {
          logits_row = static_cast<int32_t>(logits_chunk.size());
          logits_chunk.push_back(pieces[s].chunk);
        }
        writer.SetToken(t++, {.token = chunk.tokens[i],
                              .sequence = static_cast<int32_t>(s),
                              .position = chunk.first_position + i,
                              .logits_row = logits_row,
                              .reserved = 0});
      }
    }
    const uint64_t logits_bytes =
        static_cast<uint64_t>(n_logits) * static_cast<uint64_t>(config_.vocab_size) * 4;
    if (absl::Status s = Reserve(command_, command.size()); !s.ok()) return s;
    if (n_logits > 0) {
      if (absl::Status s = Reserve(logits_, logits_bytes); !s.ok()) return s;
    }
    DeviceRef cmd = command_;
    cmd.bytes = command.size();
    DeviceRef out = logits_;
    out.bytes = n_logits > 0 ? logits_bytes : 0;
    if (n_logits == 0) out = {};
    if (absl::Status s = device_->Write(command_, 0, command.data(), command.size()); !s.ok()) {
      return s;
    }
    if (absl::Status s = device_->Sync(command_, fpga::Direction::kToDevice); !s.ok()) return s;

    const fpga::DeviceCounters before = device_->counters();
    absl::Status ran = device_->Run(kDecoderKernel, DecoderArgs(placed_.desc_ref, cmd, out),
                                    kStepTimeout);
    const fpga::DeviceCounters after = device_->counters();
    {
      std::lock_guard<std::mutex> lock(mu_);
      counters_.bytes_read +=
          static_cast<int64_t>(after.banks.total_read() - before.banks.total_read());
      counters_.bytes_written +=
          static_cast<int64_t>(after.banks.total_written() - before.banks.total_written());
      counters_.launches += static_cast<int64_t>(after.launches - before.launches);
      // The emulated card reports the cost model's time; a card its measured time.
      const double modelled = after.modelled_kernel_seconds - before.modelled_kernel_seconds;
      counters_.kernel_seconds +=
          modelled > 0 ? modelled : after.kernel_wall_seconds - before.kernel_wall_seconds;
    }
    if (!ran.ok()) return ran;
    if (n_logits == 0) return absl::OkStatus();
    if (absl::Status s = device_->Sync(logits_, fpga::Direction::kFromDevice); !s.ok()) return s;
    for (size_t r = 0; r < logits_chunk.size(); ++r) {
      std::vector<float>& dst = logits[logits_chunk[r]];
      dst.resize(static_cast<size_t>(config_.vocab_size));
      if (absl::Status s = device_->Read(logits_, r * config_.vocab_size * 4, dst.data(),
                                         static_cast<uint64_t>(config_.vocab_size) * 4);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  std::shared_ptr<fpga::Device> device_;
  ModelConfig config_;
  fpga::PlacedModel placed_;
  Rope rope_;                   // the host's RoPE tables (the step command carries the rows)
  DeviceRef command_, logits_;  // per-step buffers in the I/O bank, grown as needed
  mutable std::mutex mu_;       // counters_ (read by metrics while a step runs)
  DeviceCounters counters_;
};

class FpgaBackend : public Backend {
 public:
  FpgaBackend(std::string name, std::shared_ptr<fpga::Device> device)
      : name_(std::move(name)), device_(std::move(device)) {}

  std::string name() const override { return name_; }

  absl::StatusOr<std::unique_ptr<BackendModel>> Load(const ModelDir& dir,
                                                     const BackendLoadOptions& options) override {
    // Loads allocate in the card's banks: one at a time.
    std::lock_guard<std::mutex> lock(load_mu_);
    absl::StatusOr<fpga::PlacedModel> placed =
        fpga::PlaceModel(*device_, dir, options.kv_pages, options.page_size);
    if (!placed.ok()) return placed.status();
    return std::make_unique<FpgaModel>(device_, dir.config, *std::move(placed));
  }

 private:
  std::string name_;
  std::shared_ptr<fpga::Device> device_;
  std::mutex load_mu_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<Backend>> MakeEmulatedFpgaBackend() {
  absl::StatusOr<std::unique_ptr<fpga::EmulatedDevice>> device = fpga::EmulatedDevice::Create();
  if (!device.ok()) return device.status();
  (*device)->RegisterKernel(kDecoderKernel, &EmulatedDecoder);
  // Modelled kernel time: the HBM bytes the launch moved at the card's measured bandwidth,
  // plus one launch (the cost model's decode bound; compute is not modelled per launch).
  absl::StatusOr<fpga::CardSpec> card = fpga::LookupCard("u280");
  if (!card.ok()) return card.status();
  const double bandwidth = card->hbm_measured_bytes_per_s;
  const double launch = card->launch_overhead_s;
  (*device)->SetCycleModel([bandwidth, launch](const fpga::BankCounters& c) {
    return static_cast<double>(c.total_read() + c.total_written()) / bandwidth + launch;
  });
  return std::make_shared<FpgaBackend>("fpga-emu",
                                       std::shared_ptr<fpga::Device>(*std::move(device)));
}

absl::StatusOr<std::shared_ptr<Backend>> MakeXrtFpgaBackend(int index, const std::string& xclbin) {
  fpga::XclbinRequirements req;
  req.kernels = {kDecoderKernel};
  absl::StatusOr<std::unique_ptr<fpga::XrtDevice>> device =
      fpga::XrtDevice::Open(index, xclbin, req);
  if (!device.ok()) return device.status();
  return std::make_shared<FpgaBackend>(absl::StrCat("fpga:", index),
                                       std::shared_ptr<fpga::Device>(*std::move(device)));
}

}  // namespace accllm
