// Placing a packed model in the card's HBM once, at load: each linear's packed tensors
// (qweight, scales, zeros, mask, as the model directory stores them) in one pseudo-channel,
// linears dealt round robin over the weight banks so a layer's matrices stream from several
// channels at once; the 8-bit embedding and head, the norms and the kernel's descriptor block
// (decoder_desc.h) beside them; the KV page pool in a bank of its own. The supported subset is
// checked first (decoder_step.h): anything else is a clear error before any card memory is
// taken, and a failed load frees what it allocated.
#ifndef ACCLLM_WORKERS_FPGA_BACKEND_MODEL_PLACEMENT_H_
#define ACCLLM_WORKERS_FPGA_BACKEND_MODEL_PLACEMENT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"                // absl::StatusOr
#include "model/model_dir.h"                     // ModelDir
#include "quant/kv_quant.h"                      // KvFormat
#include "workers/fpga/host/device.h"            // Device
#include "workers/fpga/kernels/decoder_desc.h"   // ModelDesc, LayerDesc

namespace accllm::fpga {

// Bank plan (workers/fpga/hls/u280.cfg maps gmemN to HBM[N]).
inline constexpr int kWeightBanks = 28;  // HBM[0..27]: linears, round robin
inline constexpr int kKvBank = 28;       // HBM[28]: the KV page pool
inline constexpr int kTableBank = 29;    // HBM[29]: embedding and head (int8)
inline constexpr int kDescBank = 30;     // HBM[30]: norms and the descriptor block
inline constexpr int kIoBank = 31;       // HBM[31]: per-step command and logits

// What a placed model holds on the card. Free() gives every allocation back.
struct PlacedModel {
  ModelDesc desc;
  std::vector<LayerDesc> layers;
  DeviceRef desc_ref;             // ModelDesc + LayerDesc[n_layers]
  KvFormat kv_format;
  int64_t weight_bytes_per_step = 0;  // every linear and the head
  double linear_bits_per_weight = 0;  // stored bits per decoder linear weight
  std::vector<DeviceRef> allocations;

  absl::Status Free(Device& device);
};

// Checks the model is in the supported subset, copies its tensors to the card and allocates
// a pool of `num_pages` pages of `page_size` positions.
absl::StatusOr<PlacedModel> PlaceModel(Device& device, const ModelDir& dir, int32_t num_pages,
                                       int32_t page_size);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_BACKEND_MODEL_PLACEMENT_H_
