# Every target creates .venv when missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench bench-daemon bench-dedup-full eval chaos chaos-ci lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing distillwatch into $(VENV) (log: $(VENV)/pip.log)"
	@# pip 23's resolver trips over lxml[html-clean] asked for twice (trafilatura, readability-lxml)
	@$(BIN)/python -m pip install -q --upgrade 'pip>=24' > $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@$(BIN)/python -m pip install -q -e '.[test]' >> $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/distillwatch demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.bench_dedup
	$(BIN)/python -m bench.bench_collection
	$(BIN)/python -m bench.bench_push
	$(BIN)/python -m bench.bench_daemon
	$(BIN)/python -m bench.bench_daemon --push

bench-daemon: $(STAMP)
	$(BIN)/python -m bench.bench_daemon
	$(BIN)/python -m bench.bench_daemon --push

bench-dedup-full: $(STAMP)
	$(BIN)/python -m bench.bench_dedup --n 100000 --results bench/results/dedup_speed_100k.json
	$(BIN)/python -m bench.bench_dedup --n 20000 --prefill 980000 --workers 0 --results bench/results/dedup_speed_1m.json

eval: $(STAMP)
	$(BIN)/python -m bench.eval_dedup
	$(BIN)/python -m bench.eval_collection

# SIGKILL the daemon 100 times while news comes in; figures in bench/results/chaos.json (about 12 minutes).
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos --rounds 100

# The same proof with 30 kills, as CI runs it after the tests (about 4 minutes).
chaos-ci: $(STAMP)
	$(BIN)/python -m bench.chaos --rounds 30 --out bench/results/chaos_ci.json

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
