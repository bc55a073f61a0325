.PHONY: install dev test lint format typecheck bench bench-full bench-chdb bench-chdb-full bench-smoke serve clean

install:            ## install footfall
	pip install .

dev:                ## install footfall editable with the development tools
	pip install -e '.[dev]'

test: dev           ## the whole suite (lint and type checks included), as CI runs it
	python -m pytest

lint:               ## ruff lint + format check, mypy
	ruff check src tests bench
	ruff format --check src tests bench
	mypy

format:             ## apply ruff's formatting and safe fixes
	ruff format src tests bench
	ruff check --fix src tests bench

bench:              ## quick benchmark (1 M events, ~4 min): writes bench/RESULTS.md and bench/results/
	python -m bench.run --events 1000000

bench-full:         ## full benchmark on 10 M events (~10 min): writes bench/RESULTS.md and bench/results/
	python -m bench.run --events 10000000 --query-runs 7 --duration 10

bench-chdb:         ## the quick benchmark with footfall on chDB: adds its row to the scaling table
	python -m bench.run --events 1000000 --store chdb

bench-chdb-full:    ## the full benchmark with footfall on chDB
	python -m bench.run --events 10000000 --query-runs 7 --duration 10 --store chdb

bench-smoke:        ## the harness end to end in ~1 min (timings meaningless), as CI runs it
	python -m bench.run --smoke --output /tmp/footfall-bench-smoke.md

serve:              ## run the server on the embedded store
	footfall serve

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache src/*.egg-info
