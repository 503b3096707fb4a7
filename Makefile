# Two commands: `make run` opens the app, `make test` runs the tests. Each one first creates
# .venv and installs the project into it when that has not been done (or pyproject changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench screenshot clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check . && $(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/validate_unroll.py
	$(BIN)/python benchmarks/train_step.py
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/vanishing_gradients.py

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python main.py --screenshot docs/screenshot.png

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
