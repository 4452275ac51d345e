# Gintoki: see README.md.
GO ?= go

.PHONY: build run test deps gen vet bench fuzz fuzz-short clean

## build: the binaries in bin/ (gintoki, gintoki-devbroker)
build:
	$(GO) build -o bin/ ./cmd/...

## run: the whole local stack in the foreground (MariaDB, broker, relay, service, demo data)
run: build
	./scripts/run.sh

## deps: install what the stack and the tests need (Debian packages)
deps:
	./scripts/deps.sh

## vet: gofmt and go vet
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## test: every test, integration tests included (they start their own MariaDB and broker), then each fuzz target briefly
test: deps vet
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz-short

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

clean:
	rm -rf bin
