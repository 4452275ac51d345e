package relay

import (
	"sync/atomic"
	"time"
)

// Stats counts a Relay's work. Every field and method may be used at any
// time, from any goroutine.
type Stats struct {
	Transactions     atomic.Uint64 // transactions read that had row changes to publish
	Changes          atomic.Uint64 // row changes read from them
	Published        atomic.Uint64 // messages handed to the publisher
	Acked            atomic.Uint64 // messages the broker acknowledged
	CheckpointSaves  atomic.Uint64 // positions saved
	CheckpointErrors atomic.Uint64 // failed saves (retried at the next interval while running)
	Heartbeats       atomic.Uint64 // heartbeat messages the broker acknowledged

	streaming  atomic.Bool
	lastCommit atomic.Int64 // Unix nanoseconds; 0 before the first transaction
}

// Streaming reports whether the change stream is open: Run has opened it and
// not yet stopped reading.
func (s *Stats) Streaming() bool { return s.streaming.Load() }

// LastCommit returns the commit time of the last transaction read that had
// row changes to publish, or the zero Time if there was none yet.
func (s *Stats) LastCommit() time.Time {
	if ns := s.lastCommit.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
