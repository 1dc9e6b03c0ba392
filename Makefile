# Cepheus: shortcuts around CMake (in the manner of DuckDB's Makefile).
#
#   make test                 install missing Debian packages, build Release, run all tests
#   make test CEP_WERROR=ON   the same with -Werror (the default when CI is set)
#   make test-sanitize        ASan+UBSan build (-O1, line tables) and all tests
#   make demo                 build, then run patterns/card_testing.cep over a day of transactions
#   make format-check         clang-format --dry-run --Werror on all sources
#   make consumer             install to $(PREFIX), build examples/consumer against it, run it
#   make bench-compare        build, then bench/compare.py: loops x state, latency vs rate (~10 min)
#   make bench-smoke          the same in under a minute (CI)
#   make fuzz                 ASan+UBSan build of cep_fuzz, then both modes (FUZZ_SECONDS each)
#
# Build trees: build/release, build/debug, build/sanitize, build/consumer.

.PHONY: all deps build debug sanitize test test-debug test-sanitize demo bench \
        bench-compare bench-throughput bench-smoke fuzz format format-check install consumer clean

# Warnings are errors in CI (CI=true), as .ci/run runs the README's commands.
CEP_WERROR ?= $(if $(CI),ON,OFF)
PREFIX ?= build/install
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# ctest: a test per core, and the Kafka tests (mostly waiting) beside them;
# see "Test scheduling" in CMakeLists.txt.
run_ctest = ctest --test-dir $(1) --output-on-failure -j $(shell expr $(JOBS) + 3) \
  --resource-spec-file $(CURDIR)/$(1)/ctest-resources.json
CMAKE_FLAGS ?=
BENCH_FLAGS ?=
COMPARE_FLAGS ?=
FUZZ_SECONDS ?= 300
FUZZ_SEED ?= $(shell date +%s)

DEB_PACKAGES := g++ cmake make pkg-config libboost-dev libabsl-dev librocksdb-dev \
                libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev libjemalloc-dev librdkafka-dev \
                clang-format graphviz python3 gnuplot-nox
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

COMMON_CMAKE_FLAGS := -DCEP_WERROR=$(CEP_WERROR) $(CMAKE_FLAGS)
FORMAT_DIRS := $(wildcard include src tests bench examples)
FORMAT_FILES = find $(FORMAT_DIRS) -type f \( -name '*.hpp' -o -name '*.cpp' \) -print0

all: build

# Installs only what is missing; silent when everything is there.
deps:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release $(COMMON_CMAKE_FLAGS)
	cmake --build build/release -j $(JOBS)

debug: deps
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug $(COMMON_CMAKE_FLAGS)
	cmake --build build/debug -j $(JOBS)

# Without -Werror: instrumented code makes GCC's flow warnings
# (-Wmaybe-uninitialized) report false positives; the Release build has -Werror.
# -O1 -g1 (line tables: enough for the sanitizers' stack traces) rather than
# RelWithDebInfo's -O2 -g: it compiles in a third to a half of the time
# (src/dsl/grammar.cpp: 25 s against 72 s), which is most of CI's time.
SANITIZE_FLAGS ?= -O1 -g1 -DNDEBUG
sanitize: deps
	cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCEP_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(SANITIZE_FLAGS)" \
	  -DCEP_BUILD_BENCHMARKS=OFF -DCEP_BUILD_EXAMPLES=OFF $(COMMON_CMAKE_FLAGS) -DCEP_WERROR=OFF
	cmake --build build/sanitize -j $(JOBS)

test: build
	$(call run_ctest,build/release)

test-debug: debug
	$(call run_ctest,build/debug)

test-sanitize: sanitize
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(call run_ctest,build/sanitize)

demo: build
	build/release/cep run patterns/card_testing.cep --format csv \
	  --input examples/data/transactions.csv --timeouts /dev/null

# Runs every bench/*_benchmark program; pass options with BENCH_FLAGS, e.g.
# make bench BENCH_FLAGS='--benchmark_repetitions=5 --benchmark_filter=Nfa'
bench: build
	@set -e; found=0; \
	for bench in build/release/*_benchmark; do \
	  [ -x "$$bench" ] || continue; found=1; \
	  echo "== $$bench"; "$$bench" $(BENCH_FLAGS); \
	done; \
	[ "$$found" = 1 ] || echo "no benchmarks (bench/*_benchmark.cpp) built"

# bench/compare.py: every loop with memory and RocksDB state, saturation and
# open-loop (--rate) runs, each run's match ids checked against the event
# loop's; writes build/bench-compare/results.{csv,md} and PNG plots. Pass
# options with COMPARE_FLAGS, e.g. COMPARE_FLAGS="--vs 'flink-cep {input}'".
bench-compare: build
	python3 bench/compare.py --cep build/release/cep --out build/bench-compare $(COMPARE_FLAGS)

# bench/compare.py --throughput: `cep run` over 10M card-testing events in
# memory with --parallelism 1 and 2 (wall, CPU, events per CPU-second), and
# bench/runtime_benchmark; writes build/bench-compare/throughput.md.
bench-throughput: build
	python3 bench/compare.py --throughput --cep build/release/cep --out build/bench-compare $(COMPARE_FLAGS)

bench-smoke: build
	python3 bench/compare.py --smoke --cep build/release/cep --out build/bench-smoke $(COMPARE_FLAGS)

# tests/fuzz: the mutation fuzzer under ASan+UBSan, a new seed each time;
# a failure is written to build/sanitize/fuzz-failure-MODE-SEED-CASE.txt.
fuzz: deps
	cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCEP_SANITIZE=ON \
	  -DCEP_BUILD_BENCHMARKS=OFF -DCEP_BUILD_EXAMPLES=OFF $(COMMON_CMAKE_FLAGS) -DCEP_WERROR=OFF
	cmake --build build/sanitize -j $(JOBS) --target cep_fuzz
	build/sanitize/cep_fuzz pattern --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --out build/sanitize
	build/sanitize/cep_fuzz input --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --out build/sanitize

format:
	$(FORMAT_FILES) | xargs -0 -r clang-format -i

format-check:
	$(FORMAT_FILES) | xargs -0 -r clang-format --dry-run --Werror

install: build
	cmake --install build/release --prefix $(PREFIX)

# Builds examples/consumer against the installed package only.
consumer: install
	rm -rf build/consumer
	cmake -S examples/consumer -B build/consumer -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_PREFIX_PATH=$(abspath $(PREFIX))
	cmake --build build/consumer -j $(JOBS)
	build/consumer/cep_consumer

clean:
	rm -rf build
