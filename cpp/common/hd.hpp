#pragma once
// BWL_HD marks a function that is compiled for both the host and the device.
// The pure stages (inflate, decode, fill) are written once with it: the CPU tests exercise
// the very code the CUDA kernels run.
#if defined(__CUDACC__)
#define BWL_HD __host__ __device__
#else
#define BWL_HD
#endif
