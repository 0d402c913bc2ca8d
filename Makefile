# Duanju Studio — the README's two commands: `make serve` and `make test`. Both install what is
# missing first (scripts/setup.sh) and are safe to run again.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CHROMEDRIVER := /usr/bin/chromedriver

.PHONY: setup serve test bench sandbox build lint

setup:
	@scripts/setup.sh

## Starts the sandbox API on 127.0.0.1:8787 and the app on 127.0.0.1:8080.
serve: setup
	@scripts/serve.sh

## Runs every test tier in order and stops at the first failure.
test: setup
	@scripts/test.sh

## Builds the release bundle and writes target/bench/results.json.
bench: setup
	@scripts/bench.sh

## The sandbox alone: make sandbox PORT=8787
sandbox:
	cargo run --release -p sandbox -- --port $(or $(PORT),8787)

## The release bundle in dist/.
build: setup
	trunk build --release

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --test web -- -D warnings
