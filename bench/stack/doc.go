// Package stack starts and stops what the benchmark measures and checks
// it is ready: child processes with their logs (proc.go, ready.go), the
// change topics (topics.go), the large database of the memory and cold
// phases (seed.go), and the baselines the service is compared with, which
// gintoki-bench runs as processes of its own: the bare HTTP and gRPC
// servers over pre-encoded bodies (barehttp.go, baregrpc.go, bodies.go)
// and the naive one-query-per-request server (naive.go).
//
// It imports stats of the harness and, of the service, gen/inventory/v1
// and internal/grpcraw only: never probe, loadgen, report, phase or fleet.
package stack
