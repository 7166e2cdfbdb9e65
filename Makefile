# The Linux and macOS shortcuts; without make, the same commands are `python -m chatkit ...`.
#
#   make lab     the walkthrough in JupyterLab            (python -m chatkit lab)
#   make check   grade your exercises, the table last     (python -m chatkit check)
#   make test    every check of the kit; in the students' edition (no solutions/): that the
#                kit works on this machine, then your grades
#   make catalogs  the texts marked for translation, merged into chatkit/locale/*/chatkit.po and compiled
#
# Each makes .venv and installs the kit the first time (chatkit/tools/kitenv.py: only what
# the walkthrough needs for lab and check, the kit's test tools too for the instructors'
# make test); later runs reuse it, and reinstall when pyproject.toml changes.
# `make PYTHON=python3.13 test` picks the Python (a pyenv shim works too); VENV=.venv-3.13
# keeps a second environment beside the first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EDITION := $(if $(wildcard solutions/ex*.py),instructor,student)

# A pyenv shim runs only the versions pyenv has selected ("pyenv: python3.13: command not
# found"): then take that version's own interpreter, as `pyenv prefix` would.
PY := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null || \
	{ version=$$(pyenv whence $(PYTHON) 2>/dev/null | tail -n 1) && [ -n "$$version" ] && \
	  echo "$$(pyenv root)/versions/$$version/bin/$(PYTHON)"; })
NO_PYTHON := $(PYTHON) does not run here: name a Python 3.10 or newer, e.g. make PYTHON=python3.12 (with pyenv: make PYTHON=$$(pyenv prefix 3.12)/bin/python)

# LAB_ROOT and LAB_ARGS let tests run a copy: make lab LAB_ROOT=/tmp/kit LAB_ARGS=--no-browser
LAB_ROOT ?=
LAB_ARGS ?=

.PHONY: lab check test catalogs venv clean

lab: venv
	$(BIN)/python -m chatkit lab $(if $(LAB_ROOT),--root $(LAB_ROOT)) $(LAB_ARGS)

check: venv
	$(BIN)/python -m chatkit check

ifeq ($(EDITION),instructor)
# The English notebooks run here, the Korean ones in the students' edition the tests build (each once).
test:
	@$(MAKE) --no-print-directory venv EXTRAS=dev
	CHATKIT_NOTEBOOKS=$${CHATKIT_NOTEBOOKS-en} $(BIN)/python -m pytest
else
test: venv
	$(BIN)/python -m pytest
	$(BIN)/python -m chatkit check
endif

catalogs:
	@$(MAKE) --no-print-directory venv EXTRAS=dev
	$(BIN)/python -m chatkit.tools.catalogs

EXTRAS ?= lab
venv:
	@$(if $(PY),,$(error $(NO_PYTHON)))
	@$(PY) -m chatkit.tools.kitenv --venv $(VENV) $(EXTRAS) >/dev/null

clean:
	rm -rf $(VENV) artifacts .pytest_cache
