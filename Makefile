# Everything is set up from scratch by the targets below; `make test` is what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: test lab app gifs pages bench chromium clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

# The browser test needs Chromium (Debian package); without it that test skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
		&& echo "installed chromium"; } || echo "note: chromium unavailable; the browser test will skip"

test: $(BIN)/.installed chromium
	$(BIN)/python -m pytest -q

lab: $(BIN)/.installed
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/landscape.ipynb

# The explorer alone as a web page (Voilà): make app [SETTING=exercise1.json] [PORT=8866] [PREHEAT=2]
app: $(BIN)/.installed
	$(BIN)/python -m landscape app $(if $(SETTING),--setting "$(SETTING)") $(if $(PORT),--port $(PORT)) \
		$(if $(PREHEAT),--preheat $(PREHEAT))

gifs: $(BIN)/.installed
	$(BIN)/python -m landscape lecture --out gifs

# The slides' interactive pages (gifs/*.html, generated, not committed: see the README)
pages: $(BIN)/.installed
	$(BIN)/python -m landscape lecture --pages --out gifs

bench: $(BIN)/.installed chromium
	$(BIN)/python benchmarks/optim_step.py
	$(BIN)/python benchmarks/trajectory_grid.py
	$(BIN)/python benchmarks/gif_export.py
	$(BIN)/python benchmarks/train_epoch.py
	$(BIN)/python benchmarks/slice_grid.py
	$(BIN)/python benchmarks/copies_epoch.py
	$(BIN)/python benchmarks/explorer_latency.py
	$(BIN)/python benchmarks/explorer_browser.py
	$(BIN)/python benchmarks/page_first_picture.py
	$(BIN)/python benchmarks/page_browser.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
