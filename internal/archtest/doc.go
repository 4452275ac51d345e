// Package archtest checks the dependency direction of the project's
// packages (its test is the whole package): the domain knows only the
// standard library, the use cases only the domain, adapters never import
// each other, and the small shared pieces in internal/ import no project
// package. A new package gets its rule in arch_test.go.
//
// It has no code of its own and imports nothing of the project.
package archtest
