package kafka

import (
	"testing"
	"time"
)

var (
	pA = topicPartition{"stock", 0}
	pB = topicPartition{"stock", 1}
	pH = topicPartition{"heartbeat", 0}
)

// at returns a time s seconds after an arbitrary origin.
func at(s float64) time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(s * float64(time.Second)))
}

func checkHorizon(tb testing.TB, p *progress, wantSent, wantSource time.Time) {
	tb.Helper()
	if !p.horizon.sent.Equal(wantSent) || !p.horizon.source.Equal(wantSource) {
		tb.Fatalf("horizon = (sent %v, source %v), want (%v, %v)", p.horizon.sent, p.horizon.source, wantSent, wantSource)
	}
}

// A node that starts with a backlog is not caught up, and has no horizon,
// until it has read up to where the topics ended when it attached.
func TestProgressCatchUpAfterAttach(t *testing.T) {
	p := newProgress()
	p.attach(at(0), time.Time{}, map[topicPartition]int64{pA: 5, pB: 7}, map[topicPartition]int64{pA: 10, pB: 7, pH: 3})
	// pB starts at its end (7 is not below 7); pH has no start listed.
	if p.parts[pB].next != 7 || p.parts[pH].next != 3 || p.parts[pA].next != 5 {
		t.Fatalf("start offsets: A %d, B %d, H %d", p.parts[pA].next, p.parts[pB].next, p.parts[pH].next)
	}
	if p.caughtUp() {
		t.Fatal("caught up with 5 records of A unread")
	}
	checkHorizon(t, p, time.Time{}, time.Time{})
	if !p.parts[pB].caughtUpAt.Equal(at(0)) || !p.parts[pA].caughtUpAt.IsZero() {
		t.Fatalf("caughtUpAt: A %v, B %v", p.parts[pA].caughtUpAt, p.parts[pB].caughtUpAt)
	}
	p.consumed(pA, 9)
	if p.caughtUp() {
		t.Fatal("caught up one record short")
	}
	p.consumed(pA, 10)
	if !p.caughtUp() {
		t.Fatal("not caught up at the attach target")
	}
	checkHorizon(t, p, at(0), time.Time{})
}

// The bug this replaces: a backlog that built up while the process could
// not probe (paused) was timed from when a probe first noticed it. The
// horizon stays at the last probe the consumer had caught up with, however
// late the next probe comes, until the backlog is consumed.
func TestProgressPausedNodeKeepsItsOldHorizon(t *testing.T) {
	p := newProgress()
	p.attach(at(0), at(-0.5), nil, map[topicPartition]int64{pA: 10, pH: 4})
	p.probed(probe{sent: at(1), source: at(0.9), ends: map[topicPartition]int64{pA: 10, pH: 4}})
	checkHorizon(t, p, at(1), at(0.9))
	// Paused from 1.2 to 9.2: records arrive meanwhile; the first probe
	// after the pause sees them.
	p.probed(probe{sent: at(9.3), source: at(0.9), ends: map[topicPartition]int64{pA: 50, pH: 12}})
	checkHorizon(t, p, at(1), at(0.9))
	if got := p.parts[pA].caughtUpAt; !got.Equal(at(1)) {
		t.Fatalf("A caught up at %v, want %v: the backlog is as old as the pause", got, at(1))
	}
	p.consumed(pH, 12) // the heartbeats first: not enough
	checkHorizon(t, p, at(1), at(0.9))
	if got := p.parts[pH].caughtUpAt; !got.Equal(at(9.3)) {
		t.Fatalf("H caught up at %v, want %v", got, at(9.3))
	}
	p.consumed(pA, 30)
	checkHorizon(t, p, at(1), at(0.9))
	p.consumed(pA, 50)
	checkHorizon(t, p, at(9.3), at(0.9))
}

// A failed probe is never recorded, so while the broker does not answer
// the horizon stays where the last answer left it (the consumer only calls
// probed on success); a probe's send time, not its answer's, is what it
// proves.
func TestProgressHorizonNeverPassesAnUnreadPartition(t *testing.T) {
	p := newProgress()
	p.attach(at(0), time.Time{}, nil, map[topicPartition]int64{pA: 0, pB: 0})
	p.probed(probe{sent: at(1), source: at(0.8), ends: map[topicPartition]int64{pA: 3, pB: 0}})
	p.probed(probe{sent: at(2), source: at(1.8), ends: map[topicPartition]int64{pA: 3, pB: 2}})
	checkHorizon(t, p, at(0), time.Time{})
	p.consumed(pB, 2) // B has everything; A is still behind the first probe
	checkHorizon(t, p, at(0), time.Time{})
	if !p.parts[pB].caughtUpAt.Equal(at(2)) {
		t.Fatalf("B caught up at %v, want %v", p.parts[pB].caughtUpAt, at(2))
	}
	p.consumed(pA, 3)
	checkHorizon(t, p, at(2), at(1.8))
	if len(p.pending) != 0 {
		t.Fatalf("%d probes still pending", len(p.pending))
	}
}

// A partition that appears after attaching (a table's first change) must
// be read from its start before the horizon passes the probe that saw it.
func TestProgressNewPartition(t *testing.T) {
	p := newProgress()
	p.attach(at(0), time.Time{}, nil, map[topicPartition]int64{pA: 0})
	p.probed(probe{sent: at(1), ends: map[topicPartition]int64{pA: 0, pB: 2}})
	checkHorizon(t, p, at(0), time.Time{})
	p.consumed(pB, 2)
	checkHorizon(t, p, at(1), time.Time{})
}

// While the consumer stays behind, the probes kept are bounded, and the
// horizon is never later than a probe actually read up to.
func TestProgressPendingIsBounded(t *testing.T) {
	p := newProgress()
	p.attach(at(0), time.Time{}, nil, map[topicPartition]int64{pA: 0})
	for i := 1; i <= 1000; i++ {
		p.probed(probe{sent: at(float64(i)), ends: map[topicPartition]int64{pA: int64(i * 10)}})
		if len(p.pending) > maxPending {
			t.Fatalf("%d probes pending", len(p.pending))
		}
	}
	p.consumed(pA, 5005) // past probe 500, short of 501
	if s := p.horizon.sent; s.After(at(500)) || s.Before(at(0)) {
		t.Fatalf("horizon %v after reading up to probe 500's end", s)
	}
	p.consumed(pA, 10000)
	checkHorizon(t, p, at(1000), time.Time{})
}

// Lag counts the records each partition had not consumed at the last
// probe; consuming lowers it at once, a probe raises it by what was
// appended since, and a partition that consumed past the probe's end
// counts 0, never less.
func TestProgressLag(t *testing.T) {
	p := newProgress()
	p.attach(at(0), time.Time{}, map[topicPartition]int64{pA: 5, pB: 7}, map[topicPartition]int64{pA: 10, pB: 7})
	steps := []struct {
		name         string
		do           func()
		wantA, wantB int64
		wantCaughtUp bool
	}{
		{"backlog when attaching", func() {}, 5, 0, false},
		{"part of it consumed", func() { p.consumed(pA, 8) }, 2, 0, false},
		{"all of it consumed", func() { p.consumed(pA, 10) }, 0, 0, true},
		{"a probe sees new records", func() { p.probed(probe{sent: at(1), ends: map[topicPartition]int64{pA: 12, pB: 9}}) }, 2, 2, true},
		{"consumed past the probe's end", func() { p.consumed(pA, 14) }, 0, 2, true},
	}
	for _, st := range steps {
		st.do()
		if a, b := p.parts[pA].lag(), p.parts[pB].lag(); a != st.wantA || b != st.wantB {
			t.Fatalf("%s: lag A %d, B %d; want %d, %d", st.name, a, b, st.wantA, st.wantB)
		}
		if got := p.lag(); got != st.wantA+st.wantB {
			t.Fatalf("%s: total lag %d, want %d", st.name, got, st.wantA+st.wantB)
		}
		if p.caughtUp() != st.wantCaughtUp {
			t.Fatalf("%s: caught up %v, want %v", st.name, p.caughtUp(), st.wantCaughtUp)
		}
	}
}
