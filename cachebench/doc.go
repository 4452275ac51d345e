// Package cachebench holds the committed benchmark that chose the library
// behind Gintoki's in-process read cache: freecache, bigcache v3 and otter v2,
// measured on our workload (int64 product ids, 200–400 byte pre-encoded
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
// It imports no project package: it measures the libraries alone.
package cachebench
