# stemrun: the two commands of a fresh machine are `make demo` and `make test`.
SHELL := /bin/bash
BIN := .build/release/stemrun
MPIENV := source scripts/mpi-env.sh &&
NP ?= 2
DEMO := demo-out

.PHONY: deps build demo test unit-test oracle-test slurm-test bench clean

deps:
	@scripts/install-deps.sh

build: deps
	swift build -c release --build-tests

demo: build
	@mkdir -p $(DEMO)
	$(MPIENV) mpirun -np $(NP) $(BIN) simulate --output $(DEMO)/sample.h5
	$(MPIENV) mpirun -np $(NP) $(BIN) virtual $(DEMO)/sample.h5 --output $(DEMO)/virtual.h5 --png-dir $(DEMO)/virtual-png
	@echo "results: $(DEMO)/virtual.h5 and PNG maps in $(DEMO)/virtual-png/"
	$(MPIENV) mpirun -np $(NP) $(BIN) run docs/examples/pipeline.toml --input $(DEMO)/sample.h5 --output $(DEMO)/run
	@echo "run report: $(DEMO)/run/report.html"

# The tests' files go to a scratch folder of their own (TMPDIR), removed when the run passes.
unit-test: build
	@scratch=$$(mktemp -d /tmp/stemrun-unit-XXXXXX) && \
	  $(MPIENV) TMPDIR=$$scratch/ swift test -c release --skip-build --no-parallel && \
	  rm -rf $$scratch || { echo "unit tests failed; their files are in $$scratch"; exit 1; }

oracle-test: build
	$(MPIENV) scripts/test-oracles.sh

# A real one-node SLURM cluster on loopback: sbatch of slurm/*.sbatch (needs root, slurm-wlm, munge).
slurm-test: build
	scripts/test-slurm.sh

test: unit-test oracle-test slurm-test

bench: build
	$(MPIENV) scripts/bench.sh

clean:
	rm -rf .build $(DEMO)
