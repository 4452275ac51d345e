package app

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// StreamRecord is one record of the change stream as the broker delivered
// it, before decoding (Decoder makes an inventory.Change of it).
type StreamRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte // nil for a tombstone
}

// Decoder turns a change-stream record into a domain change. It returns
// (nil, nil) for records that carry nothing to apply (tombstones).
type Decoder interface {
	Decode(topic string, key, value []byte) (inventory.Change, error)
}

// Feed applies change-stream records to a Service: decode, apply, count. A
// record that cannot be decoded never stops the stream: it is counted,
// logged at error level with its topic, partition and offset (up to a
// rate limit), skipped, and what its change could have touched is evicted
// (see reject).
type Feed struct {
	svc *Service
	dec Decoder
	log *slog.Logger
	// observe receives the time from the source's commit to the change
	// being applied (nil: not observed).
	observe func(time.Duration)
	// reason names why a record was rejected, for counting.
	reason func(error) string

	lastApplied atomic.Int64 // unix nanos of the last applied change
	applied     atomic.Uint64
	sourceTime  atomic.Int64 // unix nanos: latest commit or heartbeat time seen
	ahead       clockAhead   // how far the source's time stamps run ahead of this node's clock

	// evictedProducts and evictedAll count rejected stock records that
	// evicted one product's entry, or every entry.
	evictedProducts atomic.Uint64
	evictedAll      atomic.Uint64
	reloads         atomic.Uint64 // rejected warehouse records: directory reloads

	mu             sync.Mutex        // protects the fields below
	malformed      map[string]uint64 // by reason
	logBurst       int               // lines per window (feedLogBurst; tests lower it)
	logWindow      time.Duration     // feedLogWindow
	logWindowStart time.Time         // start of the current log rate window
	logsInWindow   int               // lines logged in it
	suppressed     uint64            // rejects not logged since the last line
}

// FeedConfig configures a Feed.
type FeedConfig struct {
	// ObserveDelay receives the commit-to-applied delay of each change.
	ObserveDelay func(time.Duration)
	// Reason classifies decode errors for the rejected-records count
	// (default: every error is "malformed").
	Reason func(error) string
}

// NewFeed returns a Feed applying to svc.
func NewFeed(svc *Service, dec Decoder, cfg FeedConfig, log *slog.Logger) *Feed {
	return &Feed{svc: svc, dec: dec, log: log, observe: cfg.ObserveDelay, reason: cfg.Reason, malformed: map[string]uint64{},
		logBurst: feedLogBurst, logWindow: feedLogWindow}
}

// Handle applies msgs in order. It is called by one goroutine, the
// consumer's.
func (f *Feed) Handle(msgs []StreamRecord) {
	for i := range msgs {
		m := &msgs[i]
		c, err := f.dec.Decode(m.Topic, m.Key, m.Value)
		if err != nil {
			f.reject(m, err)
			continue
		}
		if c == nil {
			continue
		}
		if _, ok := c.(inventory.Heartbeat); ok {
			f.sawSource(c.Committed(), time.Now())
			continue
		}
		f.svc.ApplyChange(c)
		now := time.Now()
		// A change's commit time shows the source's clock, but does not
		// move SourceTime: an earlier change may still be on its way in
		// another partition (a producer retrying through a broker restart).
		// Only heartbeats say that everything before them is in the broker.
		if t := c.Committed(); !t.IsZero() {
			f.ahead.observe(t, now)
		}
		f.lastApplied.Store(now.UnixNano())
		f.applied.Add(1)
		if t := c.Committed(); f.observe != nil && !t.IsZero() {
			f.observe(now.Sub(t))
		}
	}
}

// sawSource records a source time stamp consumed at now.
func (f *Feed) sawSource(t, now time.Time) {
	if t.IsZero() {
		return
	}
	if t.UnixNano() > f.sourceTime.Load() {
		f.sourceTime.Store(t.UnixNano()) // Handle is the only writer
	}
	f.ahead.observe(t, now)
}

// SourceAhead implements SourceClock: the largest amount by which a source
// time stamp consumed in the last minute or two was later than this node's
// clock when it was consumed (0 if none was).
func (f *Feed) SourceAhead() time.Duration { return f.ahead.get() }

// Applied returns the number of changes applied.
func (f *Feed) Applied() uint64 { return f.applied.Load() }

// LastApplied returns when the last change was applied (zero if none).
func (f *Feed) LastApplied() time.Time {
	n := f.lastApplied.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// SourceTime returns the latest time a heartbeat has shown (zero if none
// yet): the source said everything it committed before it was in the
// broker. Every such change has been read from the stream once the
// consumer has read every partition up to where it stood after the
// heartbeat (the consumer's horizon).
func (f *Feed) SourceTime() time.Time {
	n := f.sourceTime.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Evicted returns how many rejected records evicted one product's entry,
// and how many evicted every entry.
func (f *Feed) Evicted() (products, all uint64) { return f.evictedProducts.Load(), f.evictedAll.Load() }

// DirectoryReloads returns how many rejected warehouse records made the
// node reload its warehouse directory.
func (f *Feed) DirectoryReloads() uint64 { return f.reloads.Load() }

// Rejected returns the count of skipped records by reason.
func (f *Feed) Rejected() map[string]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.malformed)
}
