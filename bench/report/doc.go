// Package report is the benchmark report (docs/benchmarks.md): the figures
// of one run, each phase's in a type of its own, their Markdown rendering
// and the verdict on every target. A phase's result type, its section and
// its verdicts share a file (stampede.go, http.go, grpc.go, fixed.go,
// tail.go, fresh.go, memory.go, cold.go, cachebench.go; load.go is the
// closed-loop figures http and grpc share); report.go renders the whole,
// verdict.go lists the targets and judges, format.go holds the cell
// formatters, charts.go draws the charts beside the report.
//
// It imports stats, chart and the result types of probe and loadgen: never
// stack, phase or fleet, and no package of the service. It runs nothing.
package report
