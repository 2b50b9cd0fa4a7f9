// What can be known before a card opens: the xclbin file (read with xrt::xclbin, no card
// needed), whether it carries what the model needs, and XRT's run-time environment.
#include <sys/stat.h>  // stat

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"   // absl::StrCat, absl::StrAppend
#include "absl/strings/str_join.h"  // absl::StrJoin
#include "workers/fpga/host/xrt_device.h"

#ifdef ACCLLM_HAVE_XRT
#include "experimental/xrt_xclbin.h"  // xrt::xclbin
#include "xclbin.h"                   // axlf, axlf_section_header
#endif

namespace accllm::fpga {
namespace {

#ifdef ACCLLM_HAVE_XRT
// "HBM[12]" → 12, anything else → -1.
int HbmIndex(const std::string& tag) {
  if (tag.size() < 6 || tag.compare(0, 4, "HBM[") != 0 || tag.back() != ']') return -1;
  int n = 0;
  for (size_t i = 4; i + 1 < tag.size(); ++i) {
    if (tag[i] < '0' || tag[i] > '9' || n > 1000) return -1;
    n = n * 10 + (tag[i] - '0');
  }
  return n;
}

// XRT trusts the header's section table; check it first so a truncated or foreign file is a
// clear error instead of reads past the buffer.
absl::Status CheckAxlfLayout(const std::string& path, const std::vector<char>& data) {
  const std::string not_xclbin = absl::StrCat("'", path, "' is not an xclbin: ");
  if (data.size() < sizeof(axlf)) {
    return absl::InvalidArgumentError(absl::StrCat(not_xclbin, data.size(),
                                                   " bytes, shorter than the ", sizeof(axlf),
                                                   "-byte xclbin2 header"));
  }
  if (std::memcmp(data.data(), "xclbin2", 7) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(not_xclbin, "no 'xclbin2' magic"));
  }
  axlf top;
  std::memcpy(&top, data.data(), sizeof(axlf));
  const uint64_t n = top.m_header.m_numSections;
  if (n == 0 || n > XCLBIN_MAX_NUM_SECTION ||
      offsetof(axlf, m_sections) + n * sizeof(axlf_section_header) > data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(not_xclbin, n, " sections do not fit in ", data.size(), " bytes"));
  }
  for (uint64_t i = 0; i < n; ++i) {
    axlf_section_header h;
    std::memcpy(&h, data.data() + offsetof(axlf, m_sections) + i * sizeof(h), sizeof(h));
    if (h.m_sectionOffset > data.size() || h.m_sectionSize > data.size() - h.m_sectionOffset) {
      return absl::InvalidArgumentError(absl::StrCat(
          not_xclbin, "section ", i, " (kind ", h.m_sectionKind, ") at ", h.m_sectionOffset,
          " +", h.m_sectionSize, " runs past the end of the file (", data.size(),
          " bytes): truncated?"));
    }
  }
  return absl::OkStatus();
}
#endif

}  // namespace

bool XrtCompiledIn() {
#ifdef ACCLLM_HAVE_XRT
  return true;
#else
  return false;
#endif
}

absl::StatusOr<XclbinSummary> InspectXclbin(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("no xclbin given (--xclbin)");
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const std::string why = absl::StrCat("xclbin '", path, "': ", std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(why) : absl::FailedPreconditionError(why);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("xclbin '", path, "' is not a file"));
  }
#ifdef ACCLLM_HAVE_XRT
  std::vector<char> data(static_cast<size_t>(st.st_size));
  {
    std::ifstream in(path, std::ios::binary);
    if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) {
      return absl::FailedPreconditionError(absl::StrCat("xclbin '", path, "': cannot read it"));
    }
  }
  if (absl::Status s = CheckAxlfLayout(path, data); !s.ok()) return s;

  XclbinSummary summary;
  summary.path = path;
  summary.hbm_mem_index.assign(kMaxBanks, -1);
  try {
    xrt::xclbin xclbin(data);
    summary.platform = xclbin.get_xsa_name();
    for (const xrt::xclbin::kernel& k : xclbin.get_kernels()) summary.kernels.push_back(k.get_name());
    for (const xrt::xclbin::mem& m : xclbin.get_mems()) {
      if (m.get_type() != xrt::xclbin::mem::memory_type::hbm || !m.get_used()) continue;
      const int bank = HbmIndex(m.get_tag());
      if (bank < 0) continue;
      const uint64_t bytes = m.get_size_kb() * uint64_t{1024};
      summary.hbm_banks.push_back(bank);
      if (bank < kMaxBanks) summary.hbm_mem_index[bank] = m.get_index();
      summary.min_hbm_bank_bytes =
          summary.min_hbm_bank_bytes == 0 ? bytes : std::min(summary.min_hbm_bank_bytes, bytes);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("xclbin '", path, "': XRT cannot read it: ", e.what()));
  } catch (...) {
    return absl::InvalidArgumentError(
        absl::StrCat("xclbin '", path, "': XRT cannot read it (unknown error)"));
  }
  std::sort(summary.hbm_banks.begin(), summary.hbm_banks.end());
  summary.hbm_banks.erase(std::unique(summary.hbm_banks.begin(), summary.hbm_banks.end()),
                          summary.hbm_banks.end());
  return summary;
#else
  return absl::UnimplementedError(
      absl::StrCat("this build has no XRT: cannot read xclbin '", path, "'"));
#endif
}

absl::Status CheckXclbin(const XclbinSummary& summary, const XclbinRequirements& req) {
  std::vector<std::string> problems;
  for (const std::string& want : req.kernels) {
    if (std::find(summary.kernels.begin(), summary.kernels.end(), want) == summary.kernels.end()) {
      problems.push_back(absl::StrCat(
          "lacks kernel '", want, "' (it has: ",
          summary.kernels.empty() ? "no kernels" : absl::StrJoin(summary.kernels, ", "), ")"));
    }
  }
  std::vector<std::string> missing;
  for (int b = 0; b < req.hbm_banks; ++b) {
    if (!std::binary_search(summary.hbm_banks.begin(), summary.hbm_banks.end(), b)) {
      missing.push_back(absl::StrCat("HBM[", b, "]"));
    }
  }
  if (!missing.empty()) {
    problems.push_back(absl::StrCat("lacks HBM banks ", absl::StrJoin(missing, ", "),
                                    " (the model needs HBM[0..", req.hbm_banks - 1, "], it uses ",
                                    summary.hbm_banks.size(), " HBM banks)"));
  }
  if (req.bank_bytes > 0 && summary.min_hbm_bank_bytes < req.bank_bytes) {
    problems.push_back(absl::StrCat("has HBM banks of ", summary.min_hbm_bank_bytes,
                                    " bytes, the model needs ", req.bank_bytes, " per bank"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("xclbin '", summary.path, "' ", absl::StrJoin(problems, "; ")));
}

absl::Status CheckXrtEnvironment() {
  const char* mode = std::getenv("XCL_EMULATION_MODE");
  if (mode != nullptr && std::string(mode) == "noop") {
    return absl::FailedPreconditionError(
        "XCL_EMULATION_MODE=noop opens a \"device\" whose kernels never run; unset it to use a "
        "card, or use --device=fpga-emu for the emulated card");
  }
  const char* root = std::getenv("XILINX_XRT");
  if (root == nullptr || *root == '\0') {
    return absl::FailedPreconditionError(
        "XILINX_XRT is not set: point it at a directory whose lib/ holds libxrt_core.so.2 "
        "(Debian's XRT: mkdir -p DIR/lib && ln -s /usr/lib/x86_64-linux-gnu/libxrt_core.so.2* "
        "DIR/lib/)");
  }
  const std::string core = absl::StrCat(root, "/lib/libxrt_core.so.2");
  struct stat st;
  if (stat(core.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "XILINX_XRT=", root, " but ", core, " is missing (", std::strerror(errno),
        "): link it to the system's libxrt_core.so.2"));
  }
  return absl::OkStatus();
}

}  // namespace accllm::fpga
