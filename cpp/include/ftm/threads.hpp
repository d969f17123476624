// Worker-thread count used by the multi-threaded kernels of the core.
#pragma once

namespace ftm {

// 0 restores the default: the FTM_NUM_THREADS environment variable when set,
// otherwise std::thread::hardware_concurrency().
void set_num_threads(int count);
int num_threads();

}  // namespace ftm
