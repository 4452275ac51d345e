# Gintoki: see README.md.
GO ?= go

.PHONY: build run test deps gen vet bench bench-tail fleet torture fuzz fuzz-short clean image test-deploy dashboard

## build: the binaries in bin/ (gintoki, gintoki-devbroker, gintoki-torture, and gintoki-bench from bench/, a module of its own)
build:
	$(GO) build -o bin/ ./cmd/...
	cd bench && $(GO) build -o ../bin/ ./cmd/...

## run: the whole local stack in the foreground (MariaDB, broker, relay, service, demo data)
run: build
	./scripts/run.sh

## deps: install what the stack and the tests need (Debian packages)
deps:
	./scripts/deps.sh

## vet: gofmt and go vet (the service's module, deploy/'s and bench/'s)
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...
	cd bench && $(GO) vet ./...

## test: every test, integration tests included (they start their own MariaDB and broker), the benchmark harness's (bench/),
## then test-deploy, then each fuzz target briefly
test: deps vet
	$(GO) test -race -count=1 -timeout 15m ./...
	cd bench && $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory test-deploy
	$(MAKE) --no-print-directory fuzz-short

## test-deploy: promtool checks of the scrape config and alert rules, their unit tests, and deploy/'s Go tests
## (Kubernetes manifests, Containerfile, the dashboard's queries against a real Prometheus scraping a real stack)
test-deploy:
	./scripts/deps.sh --deploy
	cd deploy/prometheus && promtool check config prometheus.yml && promtool test rules alerts_test.yml
	cd deploy && $(GO) test -count=1 -timeout 10m ./...

## image: the container image gintoki:dev (podman, FROM scratch), built and run once (scripts/image.sh)
image:
	./scripts/image.sh

## dashboard: regenerate deploy/grafana/gintoki.json from deploy/grafana/dashboard.go
dashboard:
	cd deploy && $(GO) test ./grafana -run TestDashboardUpToDate -update

## fuzz: each fuzz target for FUZZTIME (default 60s), printing its executions
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME)

# fuzz-short: each fuzz target for a few seconds (part of make test)
fuzz-short:
	GO=$(GO) ./scripts/fuzz.sh 3s

## gen: regenerate the committed protobuf/gRPC code
gen:
	./scripts/gen.sh

## bench: the benchmark report against the running stack's dependencies (see docs/benchmarks.md)
bench: build
	./scripts/bench.sh

## bench-tail: only the tail-latency phase (open loop, one hot key, service and bare
## server interleaved), printed; docs/benchmarks.md is left as it is
bench-tail: build
	GINTOKI_BENCH_REPORT= ./scripts/bench.sh --phases tail

## fleet: a rolling restart of 3 nodes behind HAProxy under an open-loop load, and its report (see docs/fleet.md)
fleet: build
	./scripts/fleet.sh

## torture: the randomized fault-injecting checker (see docs/torture.md);
## SEED=N repeats a run, DURATION (default 60s), RUNS (default 1), BOUND (default 5s);
## TORTURE_FLAGS passes more flags
SEED ?=
DURATION ?= 60s
RUNS ?= 1
BOUND ?= 5s
torture: deps build
	./bin/gintoki-torture --bin bin $(if $(SEED),--seed $(SEED)) --duration $(DURATION) --runs $(RUNS) --bound $(BOUND) $(TORTURE_FLAGS)

clean:
	rm -rf bin
