package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// FreshnessConfig configures a Freshness.
type FreshnessConfig struct {
	// MaxStaleness is the staleness bound: an answer not marked stale
	// reflects every change committed more than this long before the node
	// received the request. Required.
	MaxStaleness time.Duration
	// Heartbeats says that the source publishes heartbeats while it has
	// nothing else to say (the relay does; Debezium with
	// heartbeat.interval.ms). The bound is then measured from the source
	// itself, so a stopped source, a broker that lost its producer or a
	// database that is down all mark answers stale. Without heartbeats an
	// idle source would look like a stopped one, so only the node's own
	// lag behind the topics is bounded.
	Heartbeats bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SourceClock says how far the source's clock has been seen running ahead
// of this node's (Feed implements it).
type SourceClock interface {
	SourceAhead() time.Duration
}

// FreshnessParts are what a Freshness watches.
type FreshnessParts struct {
	// Stream is the change consumer; nil when there is none (the
	// database-only mode), and then answers are never stale.
	Stream Stream
	// Clock widens the measured age by how far the source's clock runs
	// ahead (nil: assume it does not).
	Clock SourceClock
	// Service reports whether the warehouse directory is loaded, and
	// whether database fills keep failing.
	Service interface {
		Started() bool
		FillProblem() error
	}
	// Database answers a ping when it is reachable.
	Database interface {
		Ping(ctx context.Context) error
	}
	// Warm is the progress of the node's warm start; the node is not
	// ready until it is Done. nil: the node does not warm.
	Warm *WarmProgress
}

// ErrWarming is the readiness error of a node still warming its cache (see
// Service.Warm). Transports tell it from other reasons: /readyz answers
// "warming".
var ErrWarming = errors.New("warming the cache")

// Freshness is the readiness and staleness policy of a node: it decides,
// for every answer, whether it must be marked stale, and whether the node
// should receive traffic. Stale is evaluated on every read from the
// consumer's horizon and the clock, never from a periodically refreshed
// flag: however long the process was paused, the first answer after it is
// judged by how old the horizon is then.
type Freshness struct {
	cfg   FreshnessConfig
	parts FreshnessParts
	log   *slog.Logger

	// staleLogged is Watch's own: whether it last logged the node as stale.
	staleLogged bool
}

// NewFreshness returns a Freshness.
func NewFreshness(cfg FreshnessConfig, parts FreshnessParts, log *slog.Logger) (*Freshness, error) {
	if cfg.MaxStaleness <= 0 {
		return nil, errors.New("freshness: the staleness bound must be positive")
	}
	if parts.Service == nil || parts.Database == nil {
		return nil, errors.New("freshness: service and database are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Freshness{cfg: cfg, parts: parts, log: log}, nil
}

// MaxStaleness returns the bound.
func (f *Freshness) MaxStaleness() time.Duration { return f.cfg.MaxStaleness }

// Age returns how old an answer formed now can be: every change committed
// more than Age ago is reflected. With heartbeats it is the age of the
// source time the node has consumed everything before, widened by how far
// the source's clock was seen ahead of this node's; without, the time since
// the node last had everything the topics held. ok is false while the node
// knows no such time yet (starting), or has no change stream.
func (f *Freshness) Age() (age time.Duration, ok bool) {
	if f.parts.Stream == nil {
		return 0, false
	}
	h := f.parts.Stream.Horizon()
	at := h.Consumed
	if f.cfg.Heartbeats {
		at = h.Source
	}
	if at.IsZero() {
		return 0, false
	}
	age = f.cfg.Now().Sub(at)
	if f.cfg.Heartbeats && f.parts.Clock != nil {
		age += f.parts.Clock.SourceAhead()
	}
	return age, true
}

// Horizon returns the time on this node's clock before which every
// committed change is reflected in its answers (now − Age); zero while
// unknown.
func (f *Freshness) Horizon() time.Time {
	age, ok := f.Age()
	if !ok {
		return time.Time{}
	}
	return f.cfg.Now().Add(-age)
}

// Stale reports whether an answer formed now must be marked stale: it may
// miss a change committed more than MaxStaleness ago. It is called on every
// read, before the answer is read from the cache.
func (f *Freshness) Stale() bool {
	if f.parts.Stream == nil {
		return false // every read goes to the database
	}
	age, ok := f.Age()
	return !ok || age > f.cfg.MaxStaleness
}

// staleReason says why answers are stale, or returns nil.
func (f *Freshness) staleReason() error {
	if !f.Stale() {
		return nil
	}
	h := f.parts.Stream.Horizon()
	now := f.cfg.Now()
	switch {
	case h.Consumed.IsZero():
		return errors.New("not caught up with the change stream yet")
	case now.Sub(h.Consumed) > f.cfg.MaxStaleness:
		return fmt.Errorf("everything in the topics consumed only up to %s ago (bound %s): %w",
			now.Sub(h.Consumed).Round(time.Millisecond), f.cfg.MaxStaleness, f.streamError())
	case h.Source.IsZero():
		return errors.New("no change or heartbeat from the source consumed yet")
	}
	age, _ := f.Age()
	return fmt.Errorf("every change is known consumed only up to %s ago (bound %s): the source (relay or Debezium) "+
		"has published no heartbeat or change since; it, its broker connection or the database may be down", age.Round(time.Millisecond), f.cfg.MaxStaleness)
}

// streamError says what is known of the consumer's trouble.
func (f *Freshness) streamError() error {
	st := f.parts.Stream.State()
	if st.ProbeError != nil {
		return fmt.Errorf("the broker does not answer: %w", st.ProbeError)
	}
	return fmt.Errorf("%d records behind", st.LagRecords)
}

// Ready reports whether the node should receive traffic: the warehouse
// directory is loaded, the warm start (if any) has ended (ErrWarming until
// then), the consumer is attached, has caught up with the
// topics as they were when it attached, and has had everything they held
// within the bound, database fills are not failing, and the database
// answers. A silent source does not
// make a node unready: every node sees the same silence, and an answer
// marked stale is better than none.
func (f *Freshness) Ready(ctx context.Context) error {
	if !f.parts.Service.Started() {
		return errors.New("warehouse directory not loaded")
	}
	if w := f.parts.Warm; w != nil && !w.Done.Load() {
		return fmt.Errorf("%w: %d products loaded", ErrWarming, w.Loaded.Load())
	}
	if s := f.parts.Stream; s != nil {
		st, h := s.State(), s.Horizon()
		switch lag := f.cfg.Now().Sub(h.Consumed); {
		case !st.Attached:
			return fmt.Errorf("change consumer not attached: %v", st.ProbeError)
		case h.Consumed.IsZero():
			return fmt.Errorf("change consumer catching up (%d records behind)", st.LagRecords)
		case lag > f.cfg.MaxStaleness:
			return fmt.Errorf("change stream consumed only up to %s ago (bound %s): %w",
				lag.Round(time.Millisecond), f.cfg.MaxStaleness, f.streamError())
		}
	}
	if err := f.parts.Service.FillProblem(); err != nil {
		return err
	}
	if err := f.parts.Database.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// Watch reports readiness every interval (for gRPC health) and logs when
// answers start and stop being marked stale, until ctx ends. Only the
// report and the log are periodic: Stale itself is judged on every read.
func (f *Freshness) Watch(ctx context.Context, interval time.Duration, report func(ready bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	start := f.cfg.Now()
	for {
		// A node starting is stale until it has caught up and seen the
		// source: readiness says so; the log waits for one bound.
		if f.parts.Service.Started() && f.cfg.Now().Sub(start) > f.cfg.MaxStaleness {
			switch reason := f.staleReason(); {
			case reason != nil && !f.staleLogged:
				f.log.Warn("marking answers stale", "err", reason)
				f.staleLogged = true
			case reason == nil && f.staleLogged:
				f.log.Info("answers within the staleness bound again", "bound", f.cfg.MaxStaleness.String())
				f.staleLogged = false
			}
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		report(f.Ready(pctx) == nil)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
