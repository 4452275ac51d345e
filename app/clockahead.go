package app

import (
	"sync/atomic"
	"time"
)

// aheadWindow is how long an observation of the source's clock running
// ahead counts: between one and two windows, so that a corrected clock
// stops widening the bound after a while.
const aheadWindow = time.Minute

// clockAhead measures how far the source's clock runs ahead of this
// node's. A source time stamp (a commit or a heartbeat) names a moment
// before the record was consumed, so stamp − consumed-at can only be
// positive if the source's clock is ahead, by at least that much. The
// largest such difference seen recently is a lower bound of the skew that
// matters, tight to within the fastest delivery (milliseconds). A clock
// behind this node's cannot be measured this way, and needs no correction:
// it only makes answers look older than they are. One goroutine observes;
// any may read.
type clockAhead struct {
	windowStart time.Time     // observer's own
	cur, prev   time.Duration // observer's own: max in this window and the previous one
	value       atomic.Int64  // max(cur, prev), nanoseconds
}

// observe records a stamp consumed at now.
func (c *clockAhead) observe(stamp, now time.Time) {
	if now.Sub(c.windowStart) >= aheadWindow {
		c.prev, c.cur, c.windowStart = c.cur, 0, now
	}
	c.cur = max(c.cur, stamp.Sub(now))
	c.value.Store(int64(max(c.cur, c.prev)))
}

// get returns the measured amount (0 if the source is not seen ahead).
func (c *clockAhead) get() time.Duration { return time.Duration(c.value.Load()) }
