package kafka

import (
	"time"
)

// topicPartition names one partition of one topic.
type topicPartition struct {
	topic     string
	partition int32
}

// A probe is one listing of the topics' end offsets. Every record appended
// before sent has an offset below its partition's end, so a consumer that
// has read every partition up to ends has read everything appended before
// sent. source is the latest source time the handler had seen when the
// probe was sent: every change the source committed before it was in the
// topics by then (see ConsumerConfig.SourceTime).
type probe struct {
	sent   time.Time
	source time.Time
	ends   map[topicPartition]int64
}

// partState is one partition's progress.
type partState struct {
	next int64 // next offset to consume
	end  int64 // end offset at the last probe
	// caughtUpAt is the send time of the latest probe this partition has
	// read up to: everything appended to it before then has been consumed
	// (zero: none yet).
	caughtUpAt time.Time
}

// maxPending bounds the probes kept while the consumer is behind. When it
// is reached, every other one is dropped: a dropped probe only makes the
// horizon move forward later, never too far.
const maxPending = 64

// progress is the consumer's bookkeeping of how far it has read: per
// partition, and the horizon, the latest probe that every partition has
// read up to. It measures lag as the time since the consumer was last known
// to be caught up, never from when a backlog was first noticed: a backlog
// that built up while the process could not probe (paused, say) counts from
// the last probe it had caught up with. It is not safe for concurrent use.
type progress struct {
	parts   map[topicPartition]*partState
	pending []probe // probes not yet read up to by every partition, oldest first
	// horizon is the latest probe every partition has read up to (zero
	// sent: none yet). The first probe is the one taken when attaching,
	// so a non-zero horizon also means caught up with the topics as they
	// were then.
	horizon probe
}

func newProgress() *progress { return &progress{parts: map[topicPartition]*partState{}} }

// lag is how many records of the partition were not yet consumed at the
// last probe (0 once it has consumed past the probe's end).
func (ps *partState) lag() int64 { return max(ps.end-ps.next, 0) }

// lag is the sum of every partition's lag.
func (p *progress) lag() int64 {
	var n int64
	for _, ps := range p.parts {
		n += ps.lag()
	}
	return n
}

// attach records where consumption starts in each partition (starts) and
// the end offsets listed when attaching, at sent, which are the catch-up
// target and the first probe.
func (p *progress) attach(sent, source time.Time, starts, ends map[topicPartition]int64) {
	for k, end := range ends {
		next := end
		if s, ok := starts[k]; ok && s >= 0 && s < end {
			next = s
		}
		p.parts[k] = &partState{next: next, end: end}
	}
	p.probed(probe{sent: sent, source: source, ends: ends})
}

func (p *progress) part(k topicPartition) *partState {
	ps := p.parts[k]
	if ps == nil { // a topic or partition created after attaching
		ps = &partState{}
		p.parts[k] = ps
	}
	return ps
}

// consumed records that every record of partition k before next has been
// handed to the handler.
func (p *progress) consumed(k topicPartition, next int64) {
	ps := p.part(k)
	ps.next = next
	for _, pr := range p.pending {
		if end, ok := pr.ends[k]; ok && next >= end {
			ps.caughtUpAt = pr.sent
		}
	}
	p.advance()
}

// probed records a successful probe.
func (p *progress) probed(pr probe) {
	for k, end := range pr.ends {
		ps := p.part(k)
		ps.end = end
		if ps.next >= end {
			ps.caughtUpAt = pr.sent
		}
	}
	if len(p.pending) == maxPending {
		// Thin out, keeping the newest.
		kept := p.pending[:0]
		for i := len(p.pending) % 2; i < len(p.pending); i += 2 {
			kept = append(kept, p.pending[i])
		}
		p.pending = kept
	}
	p.pending = append(p.pending, pr)
	p.advance()
}

// advance moves the horizon past every pending probe that all partitions
// have read up to.
func (p *progress) advance() {
	n := 0
	for n < len(p.pending) && p.reached(p.pending[n]) {
		n++
	}
	if n == 0 {
		return
	}
	p.horizon = p.pending[n-1]
	p.pending = append(p.pending[:0], p.pending[n:]...)
}

func (p *progress) reached(pr probe) bool {
	for k, end := range pr.ends {
		if p.part(k).next < end {
			return false
		}
	}
	return true
}

// caughtUp reports whether every partition has read up to where the topics
// ended when the consumer attached (the first probe, taken then).
func (p *progress) caughtUp() bool { return !p.horizon.sent.IsZero() }
