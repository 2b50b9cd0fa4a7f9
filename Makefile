# accllm — one entry point. `make test` and `make serve` install what is missing
# (Debian packages), configure with CMake + Ninja, and build.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
MODEL_DIR  ?= models/default
CMAKE_FLAGS ?=
SERVE_PORT ?= 50051
METRICS_PORT ?= 9464

APT_PACKAGES := cmake ninja-build g++ pkg-config prometheus \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
  libspdlog-dev prometheus-cpp-dev libxrt-dev libgtest-dev libgmock-dev libbenchmark-dev \
  libhwy-dev libsentencepiece-dev nlohmann-json3-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps configure build test test-unit test-asan serve demo-model clean

all: build

# Idempotent: installs only the packages that are missing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
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

# Every test (unit + integration), then the unit tests again under ASan+UBSan.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900
	$(MAKE) test-asan

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

test-asan: deps
	cmake -G Ninja -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DACCLLM_SANITIZE=ON \
	  -DACCLLM_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 900

# The default model is one the project makes by itself (random weights, tiny shape).
$(MODEL_DIR)/config.json: | build
	$(BUILD)/bin/accllm synth --shape tiny --out $(MODEL_DIR)

demo-model: build $(MODEL_DIR)/config.json

# The daemon on 127.0.0.1: gRPC on $(SERVE_PORT), Prometheus /metrics on $(METRICS_PORT),
# every model under models/ (the default one included) on one local CPU worker.
# Then: build/bin/accllm generate --server 127.0.0.1:$(SERVE_PORT) --prompt "Once upon a time"
serve: demo-model
	$(BUILD)/bin/accllm-server --listen 127.0.0.1:$(SERVE_PORT) \
	  --metrics-listen 127.0.0.1:$(METRICS_PORT) --model-repository $(dir $(MODEL_DIR)) \
	  --default-model $(notdir $(MODEL_DIR))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
