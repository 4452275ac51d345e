// Package cachebench holds the committed benchmark behind Gintoki's
// in-process read cache: its own (package cache) against freecache,
// bigcache v3 and otter v2, measured on our workload (int64 product ids, 200–400 byte pre-encoded
// values, uniformly random reads that copy the value out).
//
// The package has no production code; everything lives in _test.go files so
// that the contenders' modules are only linked into the test binary.
//
//	go test ./cachebench -run XXX -bench . -benchmem -count 5
//	GINTOKI_CACHEBENCH=1 go test ./cachebench -run '^TestMemory$' -v -timeout 20m
//
// The figures and the decision they support are in docs/cache-choice.md.
//
// It imports package cache (the contender the service runs) and the domain
// it keys by; no other project package.
package cachebench
