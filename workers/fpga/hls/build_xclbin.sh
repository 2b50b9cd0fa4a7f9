#!/usr/bin/env bash
# Builds the U280 bitstream container: v++ -c (HLS of the kernel top accllm_decoder from
# workers/fpga/kernels/*.cc) then v++ -l (link onto the platform with u280.cfg).
#   PLATFORM   platform name or .xpfm path     (default xilinx_u280_gen3x16_xdma_1_202211_1)
#   TARGET     hw | hw_emu                      (default hw; hw_emu for Vitis' own emulation)
#   OUT        output folder                    (default build-fpga at the repository root)
#   JOBS       parallel Vivado jobs             (default: nproc)
# Output: $OUT/accllm_u280.xclbin (with TARGET=hw_emu: accllm_u280.hw_emu.xclbin).
# Without Vitis it prints every missing piece and exits 1; it never half-builds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
PLATFORM="${PLATFORM:-xilinx_u280_gen3x16_xdma_1_202211_1}"
TARGET="${TARGET:-hw}"
OUT="${OUT:-${ROOT}/build-fpga}"
JOBS="${JOBS:-$(nproc)}"
TOP=accllm_decoder
CFG="${HERE}/u280.cfg"

missing=()
if [[ -z "${XILINX_VITIS:-}" ]]; then
  missing+=("XILINX_VITIS not set: source <Vitis install>/settings64.sh (Vitis 2022.2 or newer)")
fi
if ! command -v v++ >/dev/null 2>&1; then
  missing+=("v++ not found on PATH (it comes with Vitis: source settings64.sh)")
fi

# The platform: a path to its .xpfm, or a name looked up where v++ looks for it.
platform_xpfm=""
if [[ "${PLATFORM}" == *.xpfm ]]; then
  [[ -f "${PLATFORM}" ]] && platform_xpfm="${PLATFORM}"
else
  IFS=: read -r -a repos <<<"${PLATFORM_REPO_PATHS:-}"
  for repo in "${repos[@]}" /opt/xilinx/platforms; do
    [[ -n "${repo}" && -f "${repo}/${PLATFORM}/${PLATFORM}.xpfm" ]] &&
      { platform_xpfm="${repo}/${PLATFORM}/${PLATFORM}.xpfm"; break; }
  done
fi
if [[ -z "${platform_xpfm}" && "${PLATFORM}" == *.xpfm ]]; then
  missing+=("platform file ${PLATFORM} not found")
elif [[ -z "${platform_xpfm}" ]]; then
  missing+=("platform ${PLATFORM} not installed at \$PLATFORM_REPO_PATHS (${PLATFORM_REPO_PATHS:-unset}) or /opt/xilinx/platforms: install the U280 development platform package (xilinx-u280-gen3x16-xdma-1-202211-1-dev) or set PLATFORM=/path/to/platform.xpfm")
fi

case "${TARGET}" in
  hw | hw_emu) ;;
  *) missing+=("TARGET=${TARGET}: use hw or hw_emu") ;;
esac

shopt -s nullglob
sources=("${ROOT}"/workers/fpga/kernels/*.cc)
shopt -u nullglob
if [[ ${#sources[@]} -eq 0 ]] || ! grep -qs "\b${TOP}\s*(" "${sources[@]}"; then
  missing+=("kernel top ${TOP}() not found in workers/fpga/kernels/*.cc")
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  echo "make fpga-xclbin: cannot build ${TOP} for ${PLATFORM}:" >&2
  for m in "${missing[@]}"; do echo "  - ${m}" >&2; done
  exit 1
fi

mkdir -p "${OUT}"
suffix=""
[[ "${TARGET}" == hw ]] || suffix=".${TARGET}"
xo="${OUT}/${TOP}${suffix}.xo"
xclbin="${OUT}/accllm_u280${suffix}.xclbin"

echo "== v++ -c ${TOP} (${#sources[@]} sources) → ${xo}"
v++ -c -t "${TARGET}" --platform "${platform_xpfm}" --config "${CFG}" -k "${TOP}" \
  -I"${ROOT}" --temp_dir "${OUT}/_x.compile${suffix}" --log_dir "${OUT}/logs" \
  -o "${xo}" "${sources[@]}"

echo "== v++ -l → ${xclbin}"
v++ -l -t "${TARGET}" --platform "${platform_xpfm}" --config "${CFG}" \
  --vivado.synth.jobs "${JOBS}" --vivado.impl.jobs "${JOBS}" \
  --temp_dir "${OUT}/_x.link${suffix}" --log_dir "${OUT}/logs" --report_dir "${OUT}/reports" \
  -o "${xclbin}" "${xo}"

echo "built ${xclbin}"
echo "serve it: accllm-worker --device=fpga:0 --xclbin=${xclbin}  (XILINX_XRT must be set)"
