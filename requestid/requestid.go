// Package requestid makes and carries request ids: the id a client sends
// (X-Request-Id, or gRPC metadata x-request-id) or one generated here,
// returned in the response and present in every log line of the request.
// The transports keep the id in a local variable and pass it to each log
// call: nothing below them logs per request.
//
// It imports only the standard library.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// Header is the HTTP header, and (lower-cased) the gRPC metadata key.
const Header = "X-Request-Id"

// MaxLen is the longest client-supplied id kept; longer ones are replaced.
const MaxLen = 128

// Generator makes ids unique per process run: a random prefix and a
// counter, so making one costs an atomic add and a small allocation.
type Generator struct {
	prefix string
	n      atomic.Uint64
}

// NewGenerator returns a Generator with a fresh random prefix.
func NewGenerator() *Generator {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails on Linux (crypto/rand docs)
	return &Generator{prefix: hex.EncodeToString(b[:]) + "-"}
}

// New returns a new id.
func (g *Generator) New() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

// Valid reports whether a client-supplied id is acceptable: 1..MaxLen
// printable ASCII characters without spaces.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
