# The two commands a user needs are `make demo` and `make test`; the rest are parts.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
JOBS ?= $(shell nproc)
# ccache (installed by bootstrap) makes rebuilds after small changes quick.
CMAKE_FLAGS := -G Ninja -DDAGSTER_DMS_TESTS=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
# Paths relative to the checkout, so clones in other folders share the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: demo test bootstrap cpp-test cpp-asan-test fuzz python-test soak lint format tidy clean bench

test: bootstrap cpp-test cpp-asan-test fuzz python-test lint

# The whole product locally: PostgreSQL with a shop database, dms-local with tasks, a change
# generator and `dg dev` on examples/demo. DEMO_ROWS, DEMO_PORT, DEMO_DMS_PORT and DEMO_DIR
# adjust it (see scripts/demo.py). Ctrl-C stops everything; so does killing make, even by SIGKILL.
demo: bootstrap
	$(PYTHON) scripts/demo.py --stop-with-parent

bootstrap:
	@scripts/bootstrap.sh

# C++ unit tests, from the Release tree that `pip install -e .` built for the extension.
cpp-test: bootstrap
	ctest --test-dir build/python --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (no executables: only the
# unit tests and the fuzzers' corpus replays run here). Built with clang, so the same tree also
# holds the libFuzzer targets of tests/fuzz.
SANITIZE_DIR := build/sanitize
cpp-asan-test: bootstrap
	CC=clang CXX=clang++ cmake -S . -B $(SANITIZE_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
		-DDAGSTER_DMS_SANITIZE=ON -DDAGSTER_DMS_TOOLS=OFF -DDAGSTER_DMS_FUZZ=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) -E '$(SANITIZE_SKIP)'

# Runs in the Release tree only: creating 250 tasks takes minutes unoptimized under the
# sanitizers (each create counts the account's resources), and the same code is exercised here
# by the smaller create tests.
SANITIZE_SKIP := PerInstanceQuotasAreEnforced

# Each libFuzzer target for a bounded time, starting from its committed corpus (new inputs go to
# a scratch copy, not into the checkout). A crash leaves crash-* in build/fuzz/<target>/.
FUZZ_SECONDS ?= 45
fuzz: cpp-asan-test
	scripts/run_fuzzers.sh $(SANITIZE_DIR) $(FUZZ_SECONDS)

# Python tests against real peers (moto server, fault-injecting servers, botocore's signer).
python-test: bootstrap
	$(VENV)/bin/pytest -q

# Not part of `test`: the CDC crash test with many more SIGKILL rounds (SOAK_ROUNDS, default 200;
# DMS_CRASH_SEED replays a failing run).
SOAK_ROUNDS ?= 200
soak: bootstrap
	DMS_CRASH_ROUNDS=$(SOAK_ROUNDS) $(VENV)/bin/pytest -q -s tests/python/test_dms_local_cdc_crash.py

lint: bootstrap
	$(VENV)/bin/ruff check python tests/python scripts examples bench
	$(VENV)/bin/ruff format --check python tests/python scripts examples bench
	$(VENV)/bin/mypy

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/cpp/*.cpp' 'tests/cpp/*.hpp')
	$(VENV)/bin/ruff format python tests/python scripts examples bench

clean:
	rm -rf build

# Benchmarks on dms-local and throw-away PostgreSQL clusters; writes docs/benchmarks.md (not part
# of `make test`: about 40 minutes on two cores). BENCH_PARTS=4 (or 3,4,5) measures only those
# parts and keeps the others' last figures from build/bench. Sizes: BENCH_* variables, see
# bench/run.py.
bench: bootstrap
	PYTHONPATH=bench $(PYTHON) bench/run.py

# clang-tidy over our C++ (slow: about half a minute per file on this size of machine).
tidy: bootstrap
	clang-tidy -p build/python --quiet --extra-arg=-Wno-unknown-warning-option \
		$$(git ls-files 'src/*.cpp' | grep -v '^src/dms/model/')
