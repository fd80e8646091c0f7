# The two entry points for a fresh machine (see README.md):
#   make demo   install what is missing, build, run a demo pipeline on an embedded store
#   make test   install what is missing, build, run the whole test suite through ctest
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test asan clean

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/bin

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory asan

# The library unit tests again under AddressSanitizer + UBSan.
asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DPIPEPROC_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS) --target unit_tests
	@cd $(BUILD)-asan && ctest --output-on-failure -R '^unit$$'

clean:
	rm -rf $(BUILD) $(BUILD)-asan
