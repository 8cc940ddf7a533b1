# Everything is set up from scratch by the targets below; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test gifs bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

gifs: $(BIN)/.installed
	$(BIN)/python -m landscape lecture --out gifs

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/optim_step.py
	$(BIN)/python benchmarks/trajectory_grid.py
	$(BIN)/python benchmarks/gif_export.py
	$(BIN)/python benchmarks/train_epoch.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
