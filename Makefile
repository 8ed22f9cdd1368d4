# The two commands (README): `make demo` and `make test`. Both install dependencies first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CORPUS ?= corpus
DEMO_STEPS ?= 300
TTSD := $(BUILD_DIR)/server/ttsd
TTSCTL := $(BUILD_DIR)/client/ttsctl

.PHONY: all deps configure build test test-sanitize fuzz demo corpus bench clean

all: build

deps:
	bash deploy/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The same suite built with AddressSanitizer + UndefinedBehaviorSanitizer (a separate build folder).
SANITIZE_DIR ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTTSD_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang, ASan + UBSan): replay fuzz/regressions, then FUZZ_SECONDS per target.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTTSD_FUZZ=ON -DTTSD_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	bash fuzz/run.sh $(FUZZ_DIR)/fuzz $(FUZZ_SECONDS) $(FUZZ_DIR)/artifacts

# The generated demo corpora: one flite voice (LJSpeech layout) and four voices (multi-speaker).
$(CORPUS)/slt/metadata.csv:
	tools/make-corpus --voices slt --sentences 600 --seed 1 --sample-rate 22050 --out $(CORPUS)/slt
$(CORPUS)/multi/metadata.csv:
	tools/make-corpus --voices slt,rms,awb,kal16 --sentences 50 --seed 2 --sample-rate 22050 --out $(CORPUS)/multi

corpus: deps $(CORPUS)/slt/metadata.csv $(CORPUS)/multi/metadata.csv

demo: build corpus
	@echo "== dataset report (single speaker)"
	$(TTSD) data check --config examples/quickstart.yaml
	@echo "== features + batching (single speaker)"
	$(TTSD) data prepare --config examples/quickstart.yaml
	@echo "== dataset report (four speakers)"
	$(TTSD) data check --config examples/multispeaker.yaml
	@echo "== listen to the feature pipeline: WAV -> log-mel -> Griffin-Lim WAV"
	mkdir -p samples/demo
	$(TTSD) audio mel --config examples/quickstart.yaml --in $(CORPUS)/slt/wavs/slt-0001.wav --out samples/demo/slt-0001.npy
	$(TTSD) audio griffin-lim --config examples/quickstart.yaml --in samples/demo/slt-0001.npy --out samples/demo/slt-0001-griffin-lim.wav
	@echo "== the daemon trains the quickstart voice (Glow-TTS, small preset) for $(DEMO_STEPS) steps"
	bash tools/demo-daemon.sh $(TTSD) $(TTSCTL) $(DEMO_STEPS)
	@echo "== demo done. The same engine runs standalone: $(TTSD) train --config examples/quickstart.yaml"
	@echo "   (best at ~2800 steps, ~30 min on 2 cores, makes many words recognisable; bench/BENCHMARKS.md)."

bench: build corpus
	bash bench/features.sh examples/quickstart.yaml

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
