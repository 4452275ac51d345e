// Package archtest checks the layering of the benchmark harness (its test
// is the whole package): the pieces at the bottom (stats, chart) know no
// other, the readers and the load (probe, loadgen) and the processes
// (stack) know no phase and no report, the report runs nothing, and only
// phase, fleet and the command tie them together. A new package gets its
// rule in layout_test.go.
//
// It has no code of its own and imports nothing of the project.
package archtest
