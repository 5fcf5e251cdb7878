# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit integration eval eval-extract bench fuzz mutation prometheus lock clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ingest demo

# Debian's prometheus gives a real server and promtool for the monitoring tests.
prometheus:
	@command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || { \
	  echo "installing Debian's prometheus package (server + promtool)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq prometheus >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff check streams tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) prometheus lint typecheck
	$(VENV)/bin/pytest -q -p no:cacheprovider

# Generated stream + shipped real text; REALNEWS_DIR=<dir> adds a local ECB+ copy.
eval: $(STAMP)
	$(PY) -m bench.eval_dedup $(if $(REALNEWS_DIR),--realnews-dir $(REALNEWS_DIR)) $(ARGS)
	$(PY) -m bench.eval_stories $(STORY_ARGS)

# Main-text F1 vs trafilatura on public page sets kept outside the repo (--data DIR or
# INGEST_EXTRACT_DATA; without them it says how to get them and exits 0).
eval-extract: $(STAMP)
	$(PY) -m bench.eval_extract $(ARGS)

bench: $(STAMP)
	$(PY) -m bench.run $(ARGS)

# requirements.lock: what the image installs, with hashes (Dockerfile). Pinned to the versions
# of the development virtualenv, so the image runs what `make test` ran. Needs pypi.org.
LOCK_VENV := .venv-lock
lock: $(STAMP)
	test -d $(LOCK_VENV) || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet "pip-tools>=7.4"
	$(PIP) freeze --exclude-editable > $(LOCK_VENV)/tested.txt
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	  $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	  --no-annotate --index-url https://pypi.org/simple --constraint $(LOCK_VENV)/tested.txt \
	  --output-file requirements.lock pyproject.toml deploy/build-requirements.in

# Mutation testing of the pure core (not part of `make test`): its own virtualenv, because
# mutmut 3.7 needs pytest < 9 (README, Development). Writes MUTATION.md.
MUTATION_VENV := .venv-mutation
MUTATION_STAMP := $(MUTATION_VENV)/.installed

$(MUTATION_STAMP): pyproject.toml
	test -d $(MUTATION_VENV) || $(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/pip install --quiet --upgrade pip
	$(MUTATION_VENV)/bin/pip install --quiet -e ".[dev,mutation]"
	@touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(MUTATION_VENV)/bin/python -m bench.mutation $(ARGS)

fuzz: $(STAMP)
	$(PIP) install --quiet -e ".[fuzz]"
	$(PY) -m bench.fuzz --seconds $${FUZZ_SECONDS:-60}

clean:
	rm -rf $(VENV) $(MUTATION_VENV) $(LOCK_VENV) .mutation .ingest-data .pytest_cache .mypy_cache .ruff_cache
