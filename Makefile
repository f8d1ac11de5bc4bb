# The two commands a user needs are `make demo` and `make test`; the rest are parts.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
JOBS ?= $(shell nproc)
# ccache (installed by bootstrap) makes rebuilds after small changes quick.
CMAKE_FLAGS := -G Ninja -DDAGSTER_DMS_TESTS=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
# Paths relative to the checkout, so clones in other folders share the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: demo test bootstrap cpp-test cpp-asan-test python-test lint format tidy clean

test: bootstrap cpp-test cpp-asan-test python-test lint

# The whole product locally: PostgreSQL with a shop database, dms-local with tasks, a change
# generator and `dg dev` on examples/demo. DEMO_ROWS, DEMO_PORT, DEMO_DMS_PORT and DEMO_DIR
# adjust it (see scripts/demo.py). Ctrl-C stops everything.
demo: bootstrap
	$(PYTHON) scripts/demo.py

bootstrap:
	@scripts/bootstrap.sh

# C++ unit tests, from the Release tree that `pip install -e .` built for the extension.
cpp-test: bootstrap
	ctest --test-dir build/python --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (no executables: only the
# unit tests run here).
cpp-asan-test: bootstrap
	cmake -S . -B build/asan $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DDAGSTER_DMS_SANITIZE=ON \
		-DDAGSTER_DMS_TOOLS=OFF
	cmake --build build/asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build/asan --output-on-failure -j $(JOBS)

# Python tests against real peers (moto server, fault-injecting servers, botocore's signer).
python-test: bootstrap
	$(VENV)/bin/pytest -q

lint: bootstrap
	$(VENV)/bin/ruff check python tests/python scripts examples
	$(VENV)/bin/ruff format --check python tests/python scripts examples
	$(VENV)/bin/mypy

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/cpp/*.cpp' 'tests/cpp/*.hpp')
	$(VENV)/bin/ruff format python tests/python scripts examples

clean:
	rm -rf build

# clang-tidy over our C++ (slow: about half a minute per file on this size of machine).
tidy: bootstrap
	clang-tidy -p build/python --quiet --extra-arg=-Wno-unknown-warning-option \
		$$(git ls-files 'src/*.cpp' | grep -v '^src/dms/model/')
