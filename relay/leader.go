package relay

import (
	"context"
	"fmt"
)

// Lock elects the one relay, among several run against the same database
// and broker, that publishes. The others stand by.
type Lock interface {
	// Acquire blocks until this process holds the lock and returns the
	// lease, or returns an error wrapping ctx.Err() when ctx ends first.
	// Trouble reaching whatever holds the lock is retried, not returned.
	Acquire(ctx context.Context) (Lease, error)
}

// Lease is a held Lock.
type Lease interface {
	// Lost is closed as soon as the holder can no longer confirm that it
	// still holds the lock, and in any case before another process can
	// acquire it: from then on the holder must not publish.
	Lost() <-chan struct{}
	// Held reports, by the clock now, whether the lease is still confirmed
	// and not lost. The relay asks before every publish, so that a process
	// that was paused (or starved) past its lease does not publish even
	// once before Lost is closed.
	Held() bool
	// Release gives the lock up (another process may acquire it at once)
	// and stops confirming it.
	Release() error
}

// lead runs terms of leadership until ctx ends or a term fails: it waits
// for the lock, relays while it holds it, and stands by again when the lease
// is lost. A lost lease stops the term at once (no draining, no final
// checkpoint): whatever it had already handed to the broker client may
// still land after the next leader's messages, as duplicates that the
// consumers' version rule ignores.
func (r *Relay) lead(ctx context.Context) error {
	for {
		r.log.Info("standing by: waiting for the leader lock")
		lease, err := r.cfg.Lock.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("acquire leader lock: %w", err)
		}
		held := lease.Held
		r.stats.held.Store(&held)
		r.stats.leader.Store(true)
		r.stats.Terms.Add(1)
		r.log.Info("leader: relaying")
		err = r.term(ctx, lease)
		r.stats.leader.Store(false)
		lost := closed(lease.Lost())
		if rerr := lease.Release(); rerr != nil {
			r.log.Warn("release leader lock", "error", rerr)
		}
		switch {
		case ctx.Err() != nil || err != nil:
			return err
		case lost:
			r.stats.LeasesLost.Add(1)
			r.log.Error("leader lock lost: stopped publishing; standing by")
		}
	}
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
