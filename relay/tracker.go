package relay

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errPublishFailed is returned by tracker.begin once a publish has failed.
var errPublishFailed = errors.New("an earlier publish failed")

// tracker follows the transactions handed to the publisher until the broker
// acknowledges them, and computes the position it is safe to resume from:
// the end of the longest prefix of transactions, in read order, whose
// messages are all acknowledged. Acknowledgements arrive in any order
// (different partitions), so a transaction acknowledged before an earlier
// one waits in the queue until the earlier one lands.
//
// The reading stage calls enqueue; the publishing stage calls begin, skip,
// abandon and dequeue; publisher callbacks call finish from their own
// goroutines; Run calls inFlight, ackedPosition, drain and failure.
type tracker struct {
	max      int
	progress chan struct{} // capacity 1; signalled after every finish. Read by one waiter at a time: the reader in begin, then Run in drain.
	failed   chan struct{} // closed by the first failed finish

	mu       sync.Mutex
	queue    []*pendingTx   // guarded by mu: published transactions in read order, from the oldest not yet acknowledged
	acked    BinlogPosition // guarded by mu: end of the acknowledged prefix
	ackedAt  time.Time      // guarded by mu: commit time of the acknowledged prefix's last transaction
	inflight int            // guarded by mu: messages published and not yet finished
	queued   int            // guarded by mu: transactions read, not yet begun or skipped
	err      error          // guarded by mu: the first publish failure
}

// pendingTx is one published transaction, or one part of a transaction.
// Its fields are guarded by the tracker's mu.
type pendingTx struct {
	end    BinlogPosition // zero for a part that is not a transaction's last: no place to resume
	commit time.Time      // the transaction's commit time (zero if unknown)
	msgs   int
	done   bool
}

func newTracker(start BinlogPosition, maxInFlight int) *tracker {
	return &tracker{
		max:      maxInFlight,
		progress: make(chan struct{}, 1),
		failed:   make(chan struct{}),
		acked:    start,
	}
}

// begin records a transaction (or a part of one, with a zero end) of n
// messages about to be published, first
// waiting until the messages in flight leave room for it (a transaction
// larger than the bound waits until nothing is in flight). It returns
// ctx's error if ctx ends first, or errPublishFailed after a failure.
func (t *tracker) begin(ctx context.Context, end BinlogPosition, commit time.Time, n int) (*pendingTx, error) {
	for {
		t.mu.Lock()
		if t.err != nil {
			t.mu.Unlock()
			return nil, errPublishFailed
		}
		if t.inflight == 0 || t.inflight+n <= t.max {
			t.inflight += n
			p := &pendingTx{end: end, commit: commit, msgs: n}
			t.queue = append(t.queue, p)
			t.mu.Unlock()
			return p, nil
		}
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.progress:
		}
	}
}

// skip records a transaction with nothing to publish. It needs no
// acknowledgement of its own, so its end is safe as soon as everything read
// before it is: it becomes the end of the last pending transaction, or the
// acknowledged position if none is pending.
func (t *tracker) skip(end BinlogPosition) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		t.acked = end
		return
	}
	t.queue[len(t.queue)-1].end = end
}

// finish records the broker's answer for p. It never blocks.
func (t *tracker) finish(p *pendingTx, err error) {
	t.mu.Lock()
	t.inflight -= p.msgs
	if err != nil {
		if t.err == nil {
			t.err = err
			close(t.failed)
		}
	} else {
		p.done = true
		k := 0
		for k < len(t.queue) && t.queue[k].done {
			// A part before its transaction's last moves nothing: resuming
			// within a transaction is impossible, and its end is zero.
			if !t.queue[k].end.IsZero() {
				t.acked = t.queue[k].end
				if c := t.queue[k].commit; c.After(t.ackedAt) {
					t.ackedAt = c
				}
			}
			t.queue[k] = nil
			k++
		}
		t.queue = t.queue[k:]
	}
	t.mu.Unlock()
	select {
	case t.progress <- struct{}{}:
	default:
	}
}

// abandon takes back p, begun but never published: its messages no longer
// count as in flight, and since p is never done the acknowledged position
// never moves past it.
func (t *tracker) abandon(p *pendingTx) {
	t.mu.Lock()
	t.inflight -= p.msgs
	t.mu.Unlock()
	select {
	case t.progress <- struct{}{}:
	default:
	}
}

// enqueue counts a transaction read and handed to the publishing stage,
// not yet begun or skipped; dequeue, called after its begin or skip, stops
// counting it. In between it counts in inFlight.
func (t *tracker) enqueue() {
	t.mu.Lock()
	t.queued++
	t.mu.Unlock()
}

func (t *tracker) dequeue() {
	t.mu.Lock()
	t.queued--
	t.mu.Unlock()
}

// inFlight returns the number of messages published and not yet finished,
// plus the transactions read and not yet published (each counts one,
// whatever its size): nonzero whenever something read is not yet in the
// broker.
func (t *tracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inflight + t.queued
}

// ackedPosition returns the position after the acknowledged prefix.
// ackedCommit returns the commit time of the last transaction of the
// acknowledged prefix: every transaction committed before it is in the
// broker, whatever is still in flight after it.
func (t *tracker) ackedCommit() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ackedAt
}

func (t *tracker) ackedPosition() BinlogPosition {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.acked
}

// failure returns the first publish failure, if any.
func (t *tracker) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// drain waits until no message is in flight, or ctx ends. Call it only once
// begin can no longer be called.
func (t *tracker) drain(ctx context.Context) error {
	for {
		t.mu.Lock()
		n := t.inflight
		t.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.progress:
		}
	}
}
