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
	Terms            atomic.Uint64 // times this relay became the leader (with a Lock)
	LeasesLost       atomic.Uint64 // times it lost the leader lock while relaying

	streaming  atomic.Bool
	leader     atomic.Bool
	held       atomic.Pointer[func() bool] // the current term's Lease.Held; nil without a Lock
	lastCommit atomic.Int64                // Unix nanoseconds; 0 before the first transaction
	caughtUp   atomic.Int64                // Unix nanoseconds; 0 until the stream says
}

// CaughtUp returns the stream's caught-up time (Stream.CaughtUpAt) as last
// sampled, about once a second: every transaction the source committed
// before it has been read and handed to the publisher. Its age is the
// relay's lag. It is the zero Time until the stream has said.
func (s *Stats) CaughtUp() time.Time {
	if ns := s.caughtUp.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
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

// Leader reports whether the relay holds the leader lock (with a Lock in
// its Config), confirmed within its lease by the clock now, and so is the
// one that publishes. Without a Lock it reports whether Run runs.
func (s *Stats) Leader() bool {
	if !s.leader.Load() {
		return false
	}
	if held := s.held.Load(); held != nil {
		return (*held)()
	}
	return true
}
