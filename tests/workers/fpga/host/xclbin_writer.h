// Test support: writes a minimal xclbin (no bitstream) from XRT's own structures in
// <xrt/xclbin.h>: the axlf header, MEM_TOPOLOGY (HBM[0..n)), IP_LAYOUT (one compute unit per
// kernel), CONNECTIVITY (buffer argument i → HBM[i]) and the EMBEDDED_METADATA XML that
// xrt::xclbin reads kernels and arguments from. Enough for xrt::xclbin to report kernels and
// memories, so XrtDevice's checks run on a machine without a card or Vitis.
// Header-only: the test binary is built from *_test.cc files alone.
#ifndef ACCLLM_TESTS_WORKERS_FPGA_HOST_XCLBIN_WRITER_H_
#define ACCLLM_TESTS_WORKERS_FPGA_HOST_XCLBIN_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"        // absl::Status
#include "absl/strings/str_cat.h"      // absl::StrCat
#include "absl/strings/str_format.h"   // absl::StrFormat

#if __has_include(<xrt/xclbin.h>)
#include <xrt/xclbin.h>  // axlf, mem_topology, ip_layout, connectivity (XRT's own layout)
#define ACCLLM_HAVE_XCLBIN_H 1
#endif

namespace accllm::fpga::testing {

struct FakeKernel {
  std::string name;
  int buffer_args = 0;  // gmem0..gmem{n-1}, m_axi, argument i connected to HBM[i % banks]
  int scalar_args = 0;  // 64-bit scalars after the buffers
};

struct FakeXclbinSpec {
  std::string platform = "xilinx_u280_gen3x16_xdma_1_202211_1";
  int hbm_banks = 32;                      // HBM[0..n) in the memory topology
  uint64_t hbm_bank_bytes = uint64_t{256} << 20;
  std::vector<FakeKernel> kernels;
};

#ifdef ACCLLM_HAVE_XCLBIN_H
namespace xclbin_internal {

inline constexpr uint64_t kCuBase = 0x1800000;  // where v++ puts the first kernel's control port
inline constexpr uint64_t kCuStride = 0x10000;

template <typename T>
inline void Put(std::vector<char>& out, size_t at, const T& value) {
  std::memcpy(out.data() + at, &value, sizeof(T));
}

inline std::vector<char> MemTopology(const FakeXclbinSpec& spec) {
  std::vector<char> out(offsetof(mem_topology, m_mem_data) + sizeof(mem_data) * spec.hbm_banks);
  Put<int32_t>(out, offsetof(mem_topology, m_count), spec.hbm_banks);
  for (int b = 0; b < spec.hbm_banks; ++b) {
    mem_data m{};
    m.m_type = MEM_HBM;
    m.m_used = 1;
    m.m_size = spec.hbm_bank_bytes / 1024;  // KiB
    m.m_base_address = static_cast<uint64_t>(b) * spec.hbm_bank_bytes;
    const std::string tag = absl::StrCat("HBM[", b, "]");
    std::memcpy(m.m_tag, tag.c_str(), tag.size() + 1);
    Put(out, offsetof(mem_topology, m_mem_data) + sizeof(mem_data) * b, m);
  }
  return out;
}

inline std::vector<char> IpLayout(const FakeXclbinSpec& spec) {
  const int n = static_cast<int>(spec.kernels.size());
  std::vector<char> out(offsetof(ip_layout, m_ip_data) + sizeof(ip_data) * n);
  Put<int32_t>(out, offsetof(ip_layout, m_count), n);
  for (int k = 0; k < n; ++k) {
    ip_data ip{};
    ip.m_type = IP_KERNEL;
    // Interrupt enabled, interrupt id k, ap_ctrl_hs: what v++ writes for an HLS kernel.
    ip.properties = IP_INT_ENABLE_MASK | ((k << IP_INTERRUPT_ID_SHIFT) & IP_INTERRUPT_ID_MASK) |
                    (AP_CTRL_HS << IP_CONTROL_SHIFT);
    ip.m_base_address = kCuBase + kCuStride * k;
    const std::string name =
        absl::StrCat(spec.kernels[k].name, ":", spec.kernels[k].name, "_1");
    std::strncpy(reinterpret_cast<char*>(ip.m_name), name.c_str(), sizeof(ip.m_name) - 1);
    Put(out, offsetof(ip_layout, m_ip_data) + sizeof(ip_data) * k, ip);
  }
  return out;
}

inline std::vector<char> Connectivity(const FakeXclbinSpec& spec) {
  std::vector<connection> conns;
  for (size_t k = 0; k < spec.kernels.size(); ++k) {
    for (int a = 0; a < spec.kernels[k].buffer_args && spec.hbm_banks > 0; ++a) {
      conns.push_back(connection{a, static_cast<int32_t>(k), a % spec.hbm_banks});
    }
  }
  std::vector<char> out(offsetof(connectivity, m_connection) + sizeof(connection) * conns.size());
  Put<int32_t>(out, offsetof(connectivity, m_count), static_cast<int32_t>(conns.size()));
  for (size_t i = 0; i < conns.size(); ++i) {
    Put(out, offsetof(connectivity, m_connection) + sizeof(connection) * i, conns[i]);
  }
  return out;
}

// The subset of v++'s metadata XML that XRT's xclbin parser reads for kernels and arguments.
inline std::string Metadata(const FakeXclbinSpec& spec) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project name=\"accllm\">\n"
      "<platform vendor=\"xilinx\" boardid=\"u280\" name=\"gen3x16_xdma\">\n"
      "<device name=\"fpga0\" fpgaDevice=\"virtexuplusHBM:xcu280:fsvh2892:-2L:e\">\n"
      "<core name=\"OCL_REGION_0\" target=\"hw\" type=\"clc_region\">\n";
  for (size_t k = 0; k < spec.kernels.size(); ++k) {
    const FakeKernel& kernel = spec.kernels[k];
    absl::StrAppend(&xml, "<kernel name=\"", kernel.name,
                    "\" language=\"c\" hwControlProtocol=\"ap_ctrl_hs\" interrupt=\"true\">\n",
                    "<port name=\"S_AXI_CONTROL\" mode=\"slave\" range=\"0x1000\" "
                    "dataWidth=\"32\" portType=\"addressable\" base=\"0x0\"/>\n");
    for (int a = 0; a < kernel.buffer_args; ++a) {
      absl::StrAppend(&xml, "<port name=\"M_AXI_GMEM", a,
                      "\" mode=\"master\" range=\"0xFFFFFFFFFFFFFFFF\" dataWidth=\"512\" "
                      "portType=\"addressable\" base=\"0x0\"/>\n");
    }
    uint64_t offset = 0x10;
    int id = 0;
    for (int a = 0; a < kernel.buffer_args; ++a, ++id, offset += 0xc) {
      absl::StrAppend(&xml, absl::StrFormat(
                                "<arg name=\"gmem%d\" addressQualifier=\"1\" id=\"%d\" "
                                "port=\"M_AXI_GMEM%d\" size=\"0x8\" offset=\"0x%x\" "
                                "hostOffset=\"0x0\" hostSize=\"0x8\" type=\"void*\"/>\n",
                                a, id, a, offset));
    }
    for (int s = 0; s < kernel.scalar_args; ++s, ++id, offset += 0xc) {
      absl::StrAppend(&xml, absl::StrFormat(
                                "<arg name=\"scalar%d\" addressQualifier=\"0\" id=\"%d\" "
                                "port=\"S_AXI_CONTROL\" size=\"0x8\" offset=\"0x%x\" "
                                "hostOffset=\"0x0\" hostSize=\"0x8\" type=\"ulong\"/>\n",
                                s, id, offset));
    }
    absl::StrAppend(&xml,
                    absl::StrFormat("<instance name=\"%s_1\">\n<addrRemap base=\"0x%x\" "
                                    "range=\"0x10000\" port=\"S_AXI_CONTROL\"/>\n</instance>\n",
                                    kernel.name, kCuBase + kCuStride * k),
                    "</kernel>\n");
  }
  absl::StrAppend(&xml, "</core>\n</device>\n</platform>\n</project>\n");
  return xml;
}

}  // namespace xclbin_internal

inline bool XclbinWriterAvailable() { return true; }

inline std::vector<char> BuildXclbin(const FakeXclbinSpec& spec) {
  const std::string xml = xclbin_internal::Metadata(spec);
  struct Section {
    axlf_section_kind kind;
    const char* name;
    std::vector<char> data;
  };
  std::vector<Section> sections = {
      {MEM_TOPOLOGY, "mem_topology", xclbin_internal::MemTopology(spec)},
      {IP_LAYOUT, "ip_layout", xclbin_internal::IpLayout(spec)},
      {CONNECTIVITY, "connectivity", xclbin_internal::Connectivity(spec)},
      {EMBEDDED_METADATA, "metadata", std::vector<char>(xml.begin(), xml.end())},
  };
  const size_t header_bytes =
      sizeof(axlf) + sizeof(axlf_section_header) * (sections.size() - 1);
  auto align8 = [](size_t n) { return (n + 7) / 8 * 8; };
  size_t total = align8(header_bytes);
  for (const Section& s : sections) total += align8(s.data.size());

  std::vector<char> out(total, 0);
  axlf top{};
  std::memcpy(top.m_magic, "xclbin2", 8);
  top.m_signature_length = -1;
  std::memset(top.reserved, 0xFF, sizeof(top.reserved));
  top.m_header.m_length = total;
  top.m_header.m_versionMajor = 2;
  top.m_header.m_mode = XCLBIN_FLAT;
  std::strncpy(reinterpret_cast<char*>(top.m_header.m_platformVBNV), spec.platform.c_str(),
               sizeof(top.m_header.m_platformVBNV) - 1);
  for (size_t i = 0; i < sizeof(top.m_header.uuid); ++i) {
    top.m_header.uuid[i] = static_cast<unsigned char>(0xA0 + i);
  }
  top.m_header.m_numSections = static_cast<uint32_t>(sections.size());
  std::memcpy(out.data(), &top, offsetof(axlf, m_sections));

  size_t at = align8(header_bytes);
  for (size_t i = 0; i < sections.size(); ++i) {
    axlf_section_header h{};
    h.m_sectionKind = sections[i].kind;
    std::strncpy(h.m_sectionName, sections[i].name, sizeof(h.m_sectionName) - 1);
    h.m_sectionOffset = at;
    h.m_sectionSize = sections[i].data.size();
    std::memcpy(out.data() + offsetof(axlf, m_sections) + sizeof(h) * i, &h, sizeof(h));
    std::memcpy(out.data() + at, sections[i].data.data(), sections[i].data.size());
    at += align8(sections[i].data.size());
  }
  return out;
}

#else  // no <xrt/xclbin.h>

inline bool XclbinWriterAvailable() { return false; }
inline std::vector<char> BuildXclbin(const FakeXclbinSpec&) { return {}; }

#endif

inline absl::Status WriteXclbin(const std::string& path, const FakeXclbinSpec& spec) {
  const std::vector<char> bytes = BuildXclbin(spec);
  if (bytes.empty()) return absl::UnimplementedError("no <xrt/xclbin.h> to write an xclbin");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace accllm::fpga::testing

#endif  // ACCLLM_TESTS_WORKERS_FPGA_HOST_XCLBIN_WRITER_H_
