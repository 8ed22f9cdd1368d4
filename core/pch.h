// Precompiled header for tts_core and its tests: LibTorch dominates compile time (~25 s a TU).
#pragma once
#include <torch/torch.h>
