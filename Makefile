# Makefile: thin wrapper over CMake. `make run` and `make test` are the README's two commands.
# Each does the whole set-up on a fresh Debian machine (install-deps.sh is idempotent).
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
RELEASE_BUILD ?= build-release
CMAKE_FLAGS ?=
# After ctest: which tests were skipped and why (ctest itself shows only "Skipped").
SKIP_REASONS = awk '/^[0-9]+\/[0-9]+ Testing: /{t=$$3} /^SKIPPED:/{sub(/^SKIPPED: */, ""); print "skipped " t ": " $$0}' Testing/Temporary/LastTest.log

.PHONY: all deps build run test test-asan test-tsan test-release bench install clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the bundled scenarios against a local cluster. --parallel 2 was the
# fastest on this 2-core machine (bench_parallel: 58 s vs 104 s serial, 66 s at 4 and 8).
run: build
	./$(BUILD)/bin/tf run --parallel 2 --store .tf/state.db --format pretty --format junit:$(BUILD)/report.xml --format message:$(BUILD)/report.ndjson scenarios

# The Release configuration users build (compiled only), then every ctest label under
# AddressSanitizer+UBSan, then the unit label under ThreadSanitizer. All with -Werror.
test: deps test-release test-asan test-tsan

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTF_SANITIZE=address -DTF_BENCH=ON -DTF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && { ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS); rc=$$?; $(SKIP_REASONS); exit $$rc; }

test-tsan:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTF_SANITIZE=thread -DTF_BENCH=OFF -DTF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && { TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit; rc=$$?; $(SKIP_REASONS); exit $$rc; }

# -O3 finds warnings the Debug builds do not (GCC's maybe-uninitialized).
test-release:
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DTF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

# Every benchmark at full size; stops at the first wrong answer (exit 1). 77 = skipped:
# a peer it needs is missing (never under CI=true, where that is a failure).
bench: build
	@for b in $(BUILD)/bench/bench_*; do \
	  [ -f "$$b" ] && [ -x "$$b" ] || continue; \
	  echo "== $$b"; $$b; rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "== $$b: skipped"; \
	  elif [ $$rc -ne 0 ]; then echo "== $$b: FAILED (exit $$rc)"; exit 1; fi; \
	done

# PREFIX=DIR installs there instead of the configured prefix (CMAKE_INSTALL_PREFIX).
install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(RELEASE_BUILD)
