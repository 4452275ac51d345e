// Package loadgen is the benchmark's load generators: wrk driven with a
// Lua script of random ids (wrk.go), the vegeta library at a fixed rate
// (fixedrate.go, hotkey.go), an open loop of its own that is cheap enough
// to send 20,000 req/s on 2 shared cores (openloop.go, with the
// request-by-request Timeline of timeline.go), a closed-loop gRPC load
// (grpcload.go), and a burst of goroutines released together (burst.go).
// Each run returns what it measured; none knows a phase or the report.
//
// It imports stats and probe (to measure CPU) of the harness and, of the
// service, gen/inventory/v1 only: never stack, report, phase or fleet.
package loadgen
