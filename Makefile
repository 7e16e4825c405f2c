# twampy: thin wrappers around CMake. `make run` and `make check` are the quick start.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD ?= build-fuzz
# Seconds each fuzz target runs under `make fuzz` (`make fuzz-short`: 10).
FUZZ_SECONDS ?= 60
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages: what `make run` needs, and what the tests, fuzzers and
# benchmarks need on top.
BUILD_PKGS := cmake make gcc libc6-dev pkg-config libssl-dev libcmocka-dev libyaml-dev libmicrohttpd-dev
TEST_PKGS  := clang-format iproute2 iputils-ping clang libclang-rt-14-dev valgrind tshark python3 \
              time chromium systemd prometheus
# `make deb`: the Debian packaging tools.
DEB_PKGS   := dpkg-dev debhelper lintian
DEB_OUT    ?= build-deb

.PHONY: all build run check test asan fuzz fuzz-short bench install deps deps-build deb format clean

all: build

# Install the missing packages of $(1) as root, else print the command and stop.
define install_pkgs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages; run:"; \
	    echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef

deps-build:
	$(call install_pkgs,$(BUILD_PKGS))

deps: deps-build
	$(call install_pkgs,$(TEST_PKGS))

$(BUILD)/CMakeCache.txt: | deps-build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The demo needs the twampy binary only: the test programs and fuzz replays are
# built by `make test` / `make check`.
run: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target twampy
	./$(BUILD)/twampy demo

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTWAMPY_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Every test, then every test again under AddressSanitizer and UBSan, then
# every fuzz target for a few seconds, then the Debian package (about 1-2 min).
check: test asan fuzz-short deb

# The Debian packages (twampy, libtwampy0, libtwampy-dev) from this work tree,
# built in a temporary directory, checked (lintian without errors, dpkg -c,
# twampy --version and a libtwampy program run from a throwaway root) and
# left in $(DEB_OUT)/; tests/pkg/deb.sh.
deb:
	$(call install_pkgs,$(BUILD_PKGS) $(DEB_PKGS))
	./tests/pkg/deb.sh $(abspath $(DEB_OUT))

# libFuzzer (clang): every target in fuzz/ for FUZZ_SECONDS on a copy of its
# seed corpus (new inputs go to $(FUZZ_BUILD)/corpus-<target>); fuzz/README.md.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	  -DTWAMPY_FUZZ=ON -DTWAMPY_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=10

bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DTWAMPY_TESTS=ON
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	./bench/run.sh $(BENCH_BUILD)
	./bench/fanout.sh $(BENCH_BUILD)
	./bench/serverscale.sh $(BENCH_BUILD)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) $(DEB_OUT)
