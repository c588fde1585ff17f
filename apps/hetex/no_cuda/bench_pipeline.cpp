// SPDX-License-Identifier: MIT
// Without CUDA the pipeline workload is ordinary C++ (its CPU columns only).
#include "../bench_pipeline.cu"
