# `make lab`: the walkthrough in JupyterLab.  `make test`: every check of the kit.
# Both create .venv and install the kit the first time; later runs reuse it
# (it is reinstalled only when pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test clean

# JupyterLab opens notebook 00, with the whole kit in its file browser (the
# exercises are edited there too). The walkthrough notebooks are saved without
# outputs (chatkit.tools.nbstrip), so using them never dirties the checkout.
# The kit's .venv comes first on PATH, so `pytest exercises/` and
# `python -m chatkit ...` work as written in JupyterLab's terminals.
# LAB_ROOT and LAB_ARGS let tests run a copy.
LAB_ROOT ?= .
LAB_ARGS ?=

lab: $(INSTALLED)
	PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" \
	$(BIN)/jupyter lab --ip=127.0.0.1 --ServerApp.root_dir=$(LAB_ROOT) $(ROOT_FLAG) \
		--ContentsManager.preferred_dir=notebooks \
		--LabApp.default_url=/lab/tree/notebooks/00-the-report-and-the-kit.ipynb \
		--ContentsManager.pre_save_hook=chatkit.tools.nbstrip.pre_save_hook $(LAB_ARGS)

test: $(INSTALLED)
	$(BIN)/python -m pytest

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("chatkit needs Python 3.10 or newer; run: make PYTHON=python3.12 ...") if sys.version_info < (3, 10) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) artifacts .pytest_cache
