// HLS pragmas for the kernels: ACCLLM_HLS(PIPELINE II=1) becomes `#pragma HLS PIPELINE II=1`
// under Vitis HLS (which defines __SYNTHESIS__) and nothing in C simulation, so g++ with
// -Wall -Werror never sees a pragma it does not know.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_HLS_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_HLS_H_

#if defined(__SYNTHESIS__)
#define ACCLLM_HLS_STRINGIFY(x) #x
#define ACCLLM_HLS(x) _Pragma(ACCLLM_HLS_STRINGIFY(HLS x))
#else
#define ACCLLM_HLS(x)
#endif

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_HLS_H_
