// Package probe reads what the processes under test and the machine show,
// without loading them: a /metrics scrape in the Prometheus text format
// (metrics.go), a process's CPU time and RSS from /proc (procfs.go), how
// busy the machine's CPU is (cpubusy.go), the GC pauses of a runtime execution trace (stwtrace.go), the database's
// status counters (dbstatus.go), the machine the run is on (machine.go),
// and the products' bodies as the service sends them (fetch.go).
//
// It imports stats of the harness and, of the service, gen/inventory/v1
// and internal/grpcraw only: never loadgen, stack, report, phase or fleet
// (layout_test.go in package archtest checks it).
package probe
