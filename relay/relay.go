package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Source opens the source database's change stream.
type Source interface {
	// Open starts reading right after from, or at the current end of the
	// stream if from is zero, and returns the stream and the position it
	// starts at. It returns an error, and no stream, if the source is not
	// set up for change capture.
	Open(ctx context.Context, from BinlogPosition) (Stream, BinlogPosition, error)
}

// Stream yields committed transactions in commit order.
type Stream interface {
	// Next blocks until the next transaction has been read, and returns it.
	// When ctx ends it returns an error wrapping ctx.Err().
	Next(ctx context.Context) (Transaction, error)
	// CaughtUpAt returns the latest time up to which every transaction the
	// source committed has been returned by Next and handed on (Next was
	// called again since): the commit time of such a transaction, relayed
	// tables or not, or when the source said it had nothing newer to send
	// (a heartbeat between transactions). It is the zero Time before
	// either. It may be called from any goroutine, also while Next runs.
	CaughtUpAt() time.Time
	// Close stops reading and releases the stream's connections.
	Close() error
}

// Encoder turns one row change into broker messages.
type Encoder interface {
	// Append appends the messages for c to msgs, in the order they must
	// be delivered (for a delete: the event, then a tombstone), and
	// returns the extended slice; on an error, msgs as it was given.
	Append(msgs []BrokerRecord, c RowChange) ([]BrokerRecord, error)
	// Heartbeat returns the message saying that the source was caught up,
	// with every earlier transaction published, at at.
	Heartbeat(at time.Time) BrokerRecord
}

// Publisher hands messages to the broker. It is safe for concurrent use.
type Publisher interface {
	// Publish accepts msgs and returns without waiting for the broker.
	// done is called exactly once, from any goroutine, with nil when the
	// broker has acknowledged every message, or with an error as soon as
	// one has failed; done must not block. Messages with the same topic
	// and key are delivered in the order they were published. ctx bounds
	// the call itself (for example creating a missing topic); ending it
	// after Publish has returned does not fail messages already accepted.
	Publish(ctx context.Context, msgs []BrokerRecord, done func(error))
}

// Checkpoint stores the position to resume reading from. Every relay of a
// pair uses the same one.
type Checkpoint interface {
	// Load returns the saved position, or the zero BinlogPosition if none has
	// been saved yet.
	Load(ctx context.Context) (BinlogPosition, error)
	// Save durably replaces the saved position with p.
	Save(ctx context.Context, p BinlogPosition) error
}

// Defaults for the zero values of Config's tuning fields.
const (
	DefaultCheckpointInterval = time.Second
	DefaultDrainTimeout       = 30 * time.Second
	DefaultMaxInFlight        = 4096
	DefaultHeartbeatInterval  = time.Second
)

// Config wires a Relay. Source, Encoder, Publisher and Checkpoint are
// required.
type Config struct {
	Source     Source
	Encoder    Encoder
	Publisher  Publisher
	Checkpoint Checkpoint
	// Lock, if set, elects the one relay that publishes: Run stands by
	// until it holds the lock, and stops publishing as soon as it loses
	// it. Without it the relay publishes as soon as it starts.
	Lock   Lock
	Logger *slog.Logger // nil discards logs

	// CheckpointInterval is how often the acknowledged position is saved
	// while running (it is always saved when Run returns).
	CheckpointInterval time.Duration
	// DrainTimeout bounds how long Run waits, once reading has stopped,
	// for the broker to acknowledge messages still in flight.
	DrainTimeout time.Duration
	// MaxInFlight bounds the messages published but not yet acknowledged;
	// reading pauses while it is reached. A single transaction larger than
	// the bound is still published, alone.
	MaxInFlight int
	// HeartbeatInterval is how often a heartbeat message is published when
	// the stream has caught up further since the last one and nothing is in
	// flight (DefaultHeartbeatInterval if zero; negative: never). It lets
	// consumers tell a quiet source from a stopped relay.
	HeartbeatInterval time.Duration
	// AckDelay, if set, is called for each transaction the broker has fully
	// acknowledged with the time since its commit. It is called from the
	// publisher's goroutines and must not block.
	AckDelay func(time.Duration)
}

// Relay publishes the change stream to the broker. Run it once.
type Relay struct {
	cfg   Config
	log   *slog.Logger
	stats Stats
}

// Stats returns the Relay's counters.
func (r *Relay) Stats() *Stats { return &r.stats }

// New checks cfg, fills in defaults and returns a Relay.
func New(cfg Config) (*Relay, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("relay: no source")
	case cfg.Encoder == nil:
		return nil, errors.New("relay: no encoder")
	case cfg.Publisher == nil:
		return nil, errors.New("relay: no publisher")
	case cfg.Checkpoint == nil:
		return nil, errors.New("relay: no checkpoint store")
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{cfg: cfg, log: log}, nil
}

// Run relays from the saved position (or the current end of the stream if
// none is saved) until ctx ends or something fails. Reading runs in one
// goroutine, encoding and publishing in another (see read), pipelined with
// each other and with the broker's acknowledgements; the position after a transaction is saved only once
// every message of it and of every transaction before it has been
// acknowledged, so a restart loses nothing, though it may publish again
// what was published after the last save.
//
// With a Lock, Run first stands by until it holds the lock, relays while it
// holds it, and stands by again if it loses it (see Lock); each term
// resumes from the saved position, wherever the last leader left it.
//
// When ctx ends Run stops reading, waits (up to DrainTimeout) for the
// messages in flight, saves the position and returns nil.
func (r *Relay) Run(ctx context.Context) error {
	if r.cfg.Lock != nil {
		return r.lead(ctx)
	}
	r.stats.leader.Store(true) // the only relay, as far as it knows
	defer r.stats.leader.Store(false)
	return r.term(ctx, nil)
}

// term relays until ctx ends, something fails or the lease (nil without a
// Lock) is lost.
func (r *Relay) term(ctx context.Context, lease Lease) error {
	var lost <-chan struct{}
	held := func() bool { return true }
	if lease != nil {
		lost, held = lease.Lost(), lease.Held
	}
	from, err := r.cfg.Checkpoint.Load(ctx)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if from.IsZero() {
		r.log.Warn("no saved position: starting at the current end of the binary log; changes committed before now are not relayed")
	}
	stream, start, err := r.cfg.Source.Open(ctx, from)
	if err != nil {
		if ctx.Err() != nil || closed(lost) {
			return nil
		}
		return fmt.Errorf("open change stream at %v: %w", from, err)
	}
	r.stats.streaming.Store(true)
	defer func() {
		r.stats.streaming.Store(false)
		if err := stream.Close(); err != nil {
			r.log.Warn("close change stream", "error", err)
		}
	}()
	r.log.Info("relay starting", "file", start.File, "pos", start.Pos, "from_checkpoint", !from.IsZero())
	if start != from {
		// Saved now so that a crash before the first acknowledged
		// transaction resumes here rather than at a later end of stream.
		if err := r.cfg.Checkpoint.Save(ctx, start); err != nil {
			return fmt.Errorf("save start position %v: %w", start, err)
		}
	}

	t := newTracker(start, r.cfg.MaxInFlight)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	// The reader goroutine is owned by Run: it ends when readCtx ends or the
	// stream fails, and Run receives from readDone before going on.
	readDone := make(chan error, 1)
	go func() { readDone <- r.read(readCtx, stream, t, held) }()

	ticker := time.NewTicker(r.cfg.CheckpointInterval)
	defer ticker.Stop()
	var beat <-chan time.Time
	if r.cfg.HeartbeatInterval > 0 {
		hb := time.NewTicker(r.cfg.HeartbeatInterval)
		defer hb.Stop()
		beat = hb.C
	}
	var lastBeat time.Time // caught-up time of the last heartbeat published
	saved := start
	var runErr error
	for reading := true; reading; {
		select {
		case <-beat:
			lastBeat = r.heartbeat(ctx, stream, t, lastBeat)
		case runErr = <-readDone:
			reading = false
		case <-t.failed:
			stopReading()
			<-readDone
			reading = false
		case <-lost:
			// Fenced: another relay may be leader already. Stop handing
			// messages on at once, and neither drain nor save: the next
			// leader resumes from the last saved position.
			stopReading()
			<-readDone
			r.log.Warn("leader lock lost: stopped reading", "acked_file", t.ackedPosition().File, "acked_pos", t.ackedPosition().Pos)
			return nil
		case <-ticker.C:
			r.sampleCaughtUp(stream)
			if p := t.ackedPosition(); p != saved {
				if err := r.save(ctx, p); err != nil {
					// Not fatal: the next tick tries again, and a restart
					// only replays more.
					r.log.Error("save checkpoint", "error", err, "file", p.File, "pos", p.Pos)
				} else {
					saved = p
				}
			}
		}
	}

	// Nothing is published any more; let what is in flight land so that the
	// saved position is as late as it can be.
	r.stats.streaming.Store(false)
	bg := context.WithoutCancel(ctx)
	drainCtx, cancelDrain := context.WithTimeout(bg, r.cfg.DrainTimeout)
	drainErr := t.drain(drainCtx)
	cancelDrain()
	if pubErr := t.failure(); pubErr != nil && runErr == nil &&
		(ctx.Err() == nil || !errors.Is(pubErr, context.Canceled)) {
		runErr = fmt.Errorf("publish: %w", pubErr)
	}
	if drainErr != nil && runErr == nil {
		runErr = fmt.Errorf("wait for broker acknowledgements: %w", drainErr)
	}
	final := t.ackedPosition()
	if final != saved {
		if err := r.save(bg, final); err != nil && runErr == nil {
			runErr = err
		}
	}
	r.log.Info("relay stopped", "file", final.File, "pos", final.Pos)
	return runErr
}

// heartbeat publishes a heartbeat saying up to when everything the source
// committed is in the broker, if that moved since the last one: with
// nothing in flight, the time the stream has caught up to; otherwise the
// commit time of the last transaction of the acknowledged prefix, so that
// heartbeats keep coming under steady writes, and never claim a
// transaction that is still being retried (whatever later ones were
// acknowledged). It returns the time the latest heartbeat carries. A
// heartbeat that fails is logged, not fatal: the next one may pass.
func (r *Relay) heartbeat(ctx context.Context, stream Stream, t *tracker, last time.Time) time.Time {
	at := r.sampleCaughtUp(stream)
	if t.inFlight() > 0 {
		// Commit times have millisecond precision: one more millisecond
		// committed in the same one may be in flight still.
		at = t.ackedCommit().Add(-time.Millisecond)
	}
	if !at.After(last) {
		return last
	}
	r.cfg.Publisher.Publish(ctx, []BrokerRecord{r.cfg.Encoder.Heartbeat(at)}, func(err error) {
		if err != nil {
			r.log.Warn("publish heartbeat", "error", err)
			return
		}
		r.stats.Heartbeats.Add(1)
	})
	return at
}

// sampleCaughtUp records the stream's caught-up time in the stats and
// returns it.
func (r *Relay) sampleCaughtUp(stream Stream) time.Time {
	at := stream.CaughtUpAt()
	if !at.IsZero() {
		r.stats.caughtUp.Store(at.UnixNano())
	}
	return at
}

func (r *Relay) save(ctx context.Context, p BinlogPosition) error {
	if err := r.cfg.Checkpoint.Save(ctx, p); err != nil {
		r.stats.CheckpointErrors.Add(1)
		return fmt.Errorf("save checkpoint %v: %w", p, err)
	}
	r.stats.CheckpointSaves.Add(1)
	r.log.Debug("checkpoint", "file", p.File, "pos", p.Pos)
	return nil
}
