# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export TRUSTDESK_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install browser video synapse test-sqlite test-postgres bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3

# The video extra (vpdq, vPDQ hashing) compiles against FFmpeg's libraries: `video` installs
# Debian's first where they are missing, and without them Trustdesk installs without vPDQ.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory video
	@if pkg-config --exists $(FFMPEG_LIBS) 2>/dev/null; then extras=dev,video; else extras=dev; \
	  echo "FFmpeg's libraries are missing: installing without vPDQ (video gets file hashes only; its tests are skipped)"; fi; \
	  echo "$(BIN)/pip install -c constraints.txt -e '.[$$extras]'"; \
	  $(BIN)/pip install --quiet -c constraints.txt -e ".[$$extras]"
	touch $@

install: $(VENV)/.installed

# Synapse, the reference Matrix homeserver of the end-to-end tests, in its own virtualenv: it
# loads the Trustdesk module from src/ (PYTHONPATH), never Trustdesk's own dependencies.
SYNAPSE_VENV ?= .venv-synapse
SYNAPSE_VERSION := 1.163.2
$(SYNAPSE_VENV)/.installed:
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install --quiet matrix-synapse==$(SYNAPSE_VERSION)
	touch $@

synapse: $(SYNAPSE_VENV)/.installed

# The system Chromium that the browser tests drive (Playwright never downloads its own).
browser:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || \
	  { echo "could not install chromium: browser tests will be skipped"; }; }

# Debian's FFmpeg libraries that the vpdq package (vPDQ video hashing) compiles against, its
# build tools, and ffmpeg itself, with which the tests make their clips. Installed when missing;
# where apt is not possible (not root, no network), said so, and the set-up goes on without vPDQ.
FFMPEG_LIBS := libavcodec libavdevice libavfilter libavformat libavutil libswresample libswscale
FFMPEG_PACKAGES := ffmpeg pkg-config g++ cmake python3-dev libavcodec-dev libavdevice-dev libavfilter-dev \
  libavformat-dev libavutil-dev libswresample-dev libswscale-dev
video:
	@{ pkg-config --exists $(FFMPEG_LIBS) 2>/dev/null && command -v ffmpeg >/dev/null && command -v c++ >/dev/null; } || \
	  { echo "installing Debian's FFmpeg libraries and ffmpeg (for vPDQ)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FFMPEG_PACKAGES)) >/dev/null || \
	  { echo "could not install FFmpeg's libraries: vPDQ will not be built and its tests will be skipped"; }; }

run: install
	$(BIN)/trustdesk db upgrade
	$(BIN)/trustdesk demo load
	$(BIN)/trustdesk serve --host $(HOST) --port $(PORT)

test: install browser synapse
	$(BIN)/python -m pytest -n 2 --backend sqlite
	$(BIN)/python -m pytest -n 2 --backend postgresql

bench: install
	$(BIN)/python benchmarks/match.py --quick

# ruff and mypy at the versions pinned in pyproject's dev extras; .ci/run runs it before
# `make test`, so a lint or type error fails CI.
lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) var/*.db* var/checkpoints .pytest_cache
