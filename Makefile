# accllm — one entry point. `make test` and `make serve` install what is missing
# (Debian packages), configure with CMake + Ninja, and build.

BUILD      ?= build
ASAN_BUILD ?= build-asan
ARM_BUILD  ?= build-aarch64
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 30
FUZZ_JOBS ?= 2
JOBS       ?= $(shell nproc)
# The default model is shipped in the repository (models/docs27m-w4/README.md).
MODEL_DIR  ?= models/docs27m-w4
CMAKE_FLAGS ?=
SERVE_PORT ?= 50051
METRICS_PORT ?= 9464

APT_PACKAGES := cmake ninja-build g++ pkg-config prometheus openssl \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
  libspdlog-dev prometheus-cpp-dev libxrt-dev libgtest-dev libgmock-dev libbenchmark-dev \
  libhwy-dev libsentencepiece-dev nlohmann-json3-dev \
  python3-yaml iproute2 uuid-dev

# The CPU kernels cross-built for 64-bit Arm and tested under qemu (test-aarch64).
ARM_APT_PACKAGES := g++-aarch64-linux-gnu qemu-user libabsl-dev:arm64 libhwy-dev:arm64 \
  libgtest-dev:arm64 libgmock-dev:arm64 libspdlog-dev:arm64

# The fuzz targets (test-fuzz, fuzz): clang 14 with libFuzzer and the sanitizer runtimes.
FUZZ_APT_PACKAGES := clang libclang-rt-14-dev

# Whether a package is installed. With arm64 beside amd64 (test-aarch64), a bare name is
# ambiguous to dpkg for packages installed in both architectures: ask for the native one too.
INSTALLED = is_installed() { dpkg -s "$$1" >/dev/null 2>&1 || \
  dpkg -s "$$1:$$(dpkg --print-architecture)" >/dev/null 2>&1; }; is_installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-aarch64 deps-fuzz configure build test test-unit test-asan test-aarch64 \
  fuzz-build fuzz test-fuzz serve serve-build demo-model fpga-xclbin image-test clean

all: build

# Idempotent: installs only the packages that are missing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do $(INSTALLED) $$p || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build dependencies are installed"; fi

$(BUILD)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Every test (unit + integration), then the unit tests again under ASan+UBSan, then the CPU
# kernels' tests on 64-bit Arm (NEON/SVE/SVE2, emulated).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
	$(MAKE) test-asan
	$(MAKE) test-aarch64
	$(MAKE) test-fuzz

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

test-asan: deps
	cmake -G Ninja -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DACCLLM_SANITIZE=ON \
	  -DACCLLM_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 900

# Debian's arm64 packages beside the amd64 ones (multiarch) and its cross compiler.
deps-aarch64:
	@dpkg --print-foreign-architectures | grep -qx arm64 || \
	  { $(SUDO) dpkg --add-architecture arm64 && $(SUDO) apt-get update -qq; }
	@missing=$$(for p in $(ARM_APT_PACKAGES); do $(INSTALLED) $$p || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all aarch64 dependencies are installed"; fi

# The kernels' tests on each Arm SIMD target Highway has: qemu's CPU at the default SVE length
# (NEON, SVE, SVE2), at 256 bits (SVE_256) and at 128 bits (SVE2_128).
test-aarch64: deps-aarch64
	cmake -G Ninja -S . -B $(ARM_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
	  -DACCLLM_KERNELS_ONLY=ON -DACCLLM_BUILD_BENCH=OFF
	cmake --build $(ARM_BUILD) -j $(JOBS) --target cpu_tests
	for cpu in max max,sve-default-vector-length=32 max,sve-default-vector-length=16; do \
	  echo "== QEMU_CPU=$$cpu"; \
	  (cd $(ARM_BUILD) && QEMU_CPU=$$cpu ctest --output-on-failure -j $(JOBS) --timeout 900) \
	    || exit 1; \
	done

deps-fuzz: deps
	@missing=$$(for p in $(FUZZ_APT_PACKAGES); do $(INSTALLED) $$p || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all fuzzing dependencies are installed"; fi

# libFuzzer targets of tests/fuzz/ under ASan+UBSan: only the parsers' libraries are built.
fuzz-build: deps-fuzz
	cmake -G Ninja -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCLLM_FUZZ=ON \
	  -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Each target FUZZ_SECONDS (default 300), FUZZ_JOBS at a time; any crash, leak, timeout
# (-timeout=10) or allocation over 2 GB fails. Inputs found: $(FUZZ_BUILD)/fuzz-corpus/.
fuzz: fuzz-build
	tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

# What `make test` runs: every target for FUZZ_TEST_SECONDS (30 s).
test-fuzz: fuzz-build
	tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_TEST_SECONDS) $(FUZZ_JOBS)

# What `make serve` needs: the daemons, the CLI and the tokenizer shim, not the tests.
SERVE_TARGETS := accllm-server accllm-worker accllm accllm_sentencepiece_shim

serve-build: configure
	cmake --build $(BUILD) -j $(JOBS) --target $(SERVE_TARGETS)

# The default model is shipped in the repository; if it is missing (or MODEL_DIR names a
# new directory) it is remade from ../shared/models/docs27m, as bench/make_default_model.sh
# describes.
$(MODEL_DIR)/config.json:
	$(MAKE) serve-build
	ACCLLM=$(BUILD)/bin/accllm bench/make_default_model.sh $(MODEL_DIR)

demo-model: $(MODEL_DIR)/config.json

# The daemon on 127.0.0.1: gRPC on $(SERVE_PORT), Prometheus /metrics on $(METRICS_PORT),
# every model under models/ (the default one included) on one local CPU worker.
# Then: build/bin/accllm generate --server 127.0.0.1:$(SERVE_PORT) --prompt "The kernel"
serve: serve-build demo-model
	$(BUILD)/bin/accllm-server --listen 127.0.0.1:$(SERVE_PORT) \
	  --metrics-listen 127.0.0.1:$(METRICS_PORT) --model-repository $(dir $(MODEL_DIR)) \
	  --default-model $(notdir $(MODEL_DIR))

# The U280 bitstream (needs Vitis: XILINX_VITIS, v++ and the platform; without them it says
# which is missing and fails). PLATFORM=name|path.xpfm, TARGET=hw|hw_emu; output build-fpga/.
fpga-xclbin:
	PLATFORM="$(PLATFORM)" TARGET="$(TARGET)" workers/fpga/hls/build_xclbin.sh

# deploy/Dockerfile built with Debian's podman from a debootstrap'ed bookworm base, then
# server + 2 workers + Prometheus with podman-compose: generate through it, check scrape
# targets. Not part of `make test` (it compiles the project inside the image: ~25 min).
image-test: configure
	cmake --build $(BUILD) -j $(JOBS) --target accllm
	BIN=$(abspath $(BUILD))/bin tests/deploy/image_test.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(ARM_BUILD) $(FUZZ_BUILD)
