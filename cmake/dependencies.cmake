# Every dependency is found, never downloaded. Nothing here assumes Debian's paths: an
# official LibTorch (CPU or CUDA) is picked up with -DCMAKE_PREFIX_PATH=/path/to/libtorch or -DTorch_DIR.
find_package(Threads REQUIRED)
find_package(absl REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED CONFIG)
find_package(nlohmann_json REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)  # PNG figures for TensorBoard
# Debian's protobuf 3.21 ships no CMake package config; try CONFIG first (official builds), then
# CMake's own FindProtobuf module.
find_package(Protobuf CONFIG QUIET)
if(NOT Protobuf_FOUND)
  find_package(Protobuf REQUIRED)
endif()
find_package(gRPC REQUIRED CONFIG)
# After protobuf: official LibTorch builds define their own protobuf::libprotobuf target when none exists.
find_package(Torch REQUIRED CONFIG)

# C libraries without CMake configs come through pkg-config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
pkg_check_modules(ESPEAK_NG REQUIRED IMPORTED_TARGET espeak-ng)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc icu-i18n)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
# Offline English ASR for val/wer (core/asr). Its headers go on core/asr/recognizer.cc alone: they
# define TRUE/FALSE, int32 and the like, and would change the flags of every other file.
pkg_check_modules(POCKETSPHINX REQUIRED pocketsphinx)
pkg_get_variable(POCKETSPHINX_MODEL_DIR pocketsphinx modeldir)

if(TTSD_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
