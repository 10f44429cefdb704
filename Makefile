# The book's three entry points. Each creates .venv on a fresh machine that has Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= tiny
INSTALLED := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv book test lab bench clean

venv: $(INSTALLED)

# torch first and pinned: the CPU wheel this machine has. Unpinned, pip would pull a CUDA build.
$(INSTALLED): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[book,test]'
	touch $@

# Executes every chapter in $(PROFILE) and builds _build/html; any cell error or warning fails it.
# The execution cache is kept per profile, so switching profile never serves stale outputs.
book: venv
	@if [ "$$(cat _build/.profile 2>/dev/null)" != "$(PROFILE)" ]; then rm -rf _build/.jupyter_cache; fi
	@mkdir -p _build && echo "$(PROFILE)" > _build/.profile
	FIELDNOTES_STATIC=1 PROFILE=$(PROFILE) $(BIN)/jupyter-book build . -W -n --keep-going

test: venv
	$(BIN)/python -m pytest

lab: venv
	$(BIN)/jupyter lab notebooks

bench: venv
	$(BIN)/python benchmarks/notebooks.py

clean:
	rm -rf _build
