# Set-up and checks on a fresh machine: `make run` opens the app, `make test` runs every test.
# The diffusers and tensorboard extras are installed too, so the tests that open diffusers folders and
# read a run's TensorBoard event files run rather than skip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-long test-core test-ui test-reliability test-frozen package install-desktop bench demos clean

# (Re)install when pyproject.toml or setup.py changes. torch/torchvision are pinned to the wheels on this
# machine's disk (pyproject's ranges admit them), so pip does not download a newer CUDA build.
$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/python -m pip install -q -e ".[dev,diffusers,video,tensorboard]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/genstudio

# Core, UI and reliability tests (offscreen Qt without a display), then build the packaged app and test it.
# Tests marked `long` (minutes each on 2 cores) run with `make test-long`. The 15 slowest are listed at
# the end, so that the run's budget (about 15 minutes) is watched where it is spent.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not long" --durations=15 tests/core tests/ui tests/reliability
	$(MAKE) test-frozen

test-long: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m long tests/core tests/ui tests/reliability

test-core: $(STAMP)
	$(BIN)/python -m pytest -q tests/core

test-ui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/ui

test-reliability: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/reliability

test-frozen: package
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -s tests/frozen

# dist/GenStudio/: the one-folder app. Rebuilt only when the sources, resources or spec change.
package: dist/GenStudio/GenStudio

dist/GenStudio/GenStudio: $(STAMP) build.spec $(shell find genstudio resources -type f -not -name '*.pyc')
	@start=$$(date +%s); \
	$(BIN)/pyinstaller --noconfirm --log-level WARN build.spec && \
	echo "package: built dist/GenStudio in $$(( $$(date +%s) - start )) s, $$(du -sh dist/GenStudio | cut -f1)"

# Linux: put the packaged app in ~/.local/opt and add it to the desktop's application menu.
install-desktop: package
	mkdir -p $(HOME)/.local/opt $(HOME)/.local/bin $(HOME)/.local/share/applications $(HOME)/.local/share/icons/hicolor/256x256/apps
	rm -rf $(HOME)/.local/opt/GenStudio && cp -a dist/GenStudio $(HOME)/.local/opt/GenStudio
	ln -sf $(HOME)/.local/opt/GenStudio/GenStudio $(HOME)/.local/bin/GenStudio
	cp resources/icons/genstudio.png $(HOME)/.local/share/icons/hicolor/256x256/apps/genstudio.png
	sed "s|^Exec=GenStudio|Exec=$(HOME)/.local/bin/GenStudio|; s|^TryExec=GenStudio|TryExec=$(HOME)/.local/bin/GenStudio|" \
		resources/genstudio.desktop > $(HOME)/.local/share/applications/genstudio.desktop

bench: $(STAMP)
	$(BIN)/genstudio bench

demos: $(STAMP)
	$(BIN)/python training/make_demo_checkpoints.py

clean:
	rm -rf build dist .pytest_cache
