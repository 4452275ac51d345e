package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/app"
)

// ConsumerConfig configures a Consumer.
type ConsumerConfig struct {
	Brokers []string
	Topics  []string
	// ReplayWindow: the consumer starts at the first record younger than
	// this, not at the end, so changes whose commit was not yet visible
	// when the node loaded its warehouses are applied (default 10s).
	ReplayWindow time.Duration
	// ProbeInterval is how often the consumer asks the broker for the end
	// offsets, to measure how far behind it is (default 1s). Lag is known
	// to within about this much.
	ProbeInterval time.Duration
	// SourceTime, if set, returns the latest source time (a change's commit
	// or a heartbeat) among the records handed to the handler so far. The
	// consumer reads it before each probe, so that Horizon can say up to
	// which source time everything has been consumed.
	SourceTime func() time.Time
	// Security: TLS and SASL towards the brokers (zero: plaintext).
	Security SecurityConfig
	Logger   *slog.Logger
}

// Consumer reads every partition of the change topics — every node sees
// every change, so there is no consumer group — and hands the records to a
// handler, in order per partition. It probes the broker's end offsets and
// says up to when it has consumed everything the topics held (its horizon),
// and when it has caught up with where the topics were when it attached.
type Consumer struct {
	cfg    ConsumerConfig
	handle func([]app.StreamRecord)
	// base is clientOptions: every client of the consumer starts from it.
	base []kgo.Opt
	log  *slog.Logger
	// attachedCh is closed once the start offsets are resolved.
	attachedCh chan struct{}
	// horizon is prog.horizon as the read path sees it, without the lock;
	// replaced whenever it moves.
	horizon atomic.Pointer[app.StreamHorizon]

	mu         sync.Mutex // protects the fields below
	prog       *progress
	attached   bool      // start offsets resolved and client consuming
	attachedAt time.Time // when the start offsets were listed
	lastProbe  time.Time // send time of the last successful probe
	probeErr   error     // last probe error (nil once a probe succeeds)
}

var _ app.Stream = (*Consumer)(nil)

// NewConsumer returns a Consumer; Run starts it.
func NewConsumer(cfg ConsumerConfig, handle func([]app.StreamRecord)) (*Consumer, error) {
	if len(cfg.Brokers) == 0 || len(cfg.Topics) == 0 {
		return nil, errors.New("kafka consumer: brokers and topics are required")
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = 10 * time.Second
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = time.Second
	}
	base, log, err := clientOptions(cfg.Brokers, cfg.Security, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	if cfg.SourceTime == nil {
		cfg.SourceTime = func() time.Time { return time.Time{} }
	}
	c := &Consumer{cfg: cfg, handle: handle, base: base, log: log, attachedCh: make(chan struct{}), prog: newProgress()}
	c.horizon.Store(&app.StreamHorizon{})
	return c, nil
}

// Run attaches (retrying until the broker answers), then consumes until ctx
// ends. It returns nil when ctx ends. Call it once.
func (c *Consumer) Run(ctx context.Context) error {
	admClient, err := kgo.NewClient(c.base...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer admClient.Close()
	adm := kadm.NewClient(admClient)

	since, err := c.attach(ctx, adm)
	if err != nil {
		return nil // ctx ended while attaching
	}
	// Every partition of the topics, no group. A topic that does not exist
	// yet (no change to that table so far) is picked up when it appears;
	// every partition starts at the first record younger than since.
	client, err := kgo.NewClient(append(c.base,
		kgo.ConsumeTopics(c.cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(since)),
		kgo.MetadataMaxAge(5*time.Second),
		kgo.FetchMaxWait(100*time.Millisecond),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer client.Close()

	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	var wg sync.WaitGroup
	wg.Go(func() { c.probeLoop(probeCtx, adm) })
	defer wg.Wait()

	var batch []app.StreamRecord
	for {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			c.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			batch = batch[:0]
			for _, r := range p.Records {
				batch = append(batch, app.StreamRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value})
			}
			c.handle(batch)
			last := p.Records[len(p.Records)-1]
			c.consumed(topicPartition{last.Topic, last.Partition}, last.Offset+1)
		})
	}
}

// attach resolves the start time (now minus the replay window) and, for
// every partition that exists, where that puts the consumer and the
// catch-up target (the end offsets now). It retries until the broker
// answers or ctx ends, and returns the start time in Unix milliseconds.
func (c *Consumer) attach(ctx context.Context, adm *kadm.Client) (int64, error) {
	for attempt := 0; ; attempt++ {
		since, err := c.tryAttach(ctx, adm)
		if err == nil {
			return since, nil
		}
		c.mu.Lock()
		c.probeErr = err
		c.mu.Unlock()
		if attempt%10 == 0 {
			c.log.Warn("change consumer cannot attach yet; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// listOffsets lists offsets, treating topics that do not exist yet as
// having no partitions.
func listOffsets(ctx context.Context, list func(context.Context, ...string) (kadm.ListedOffsets, error), topics []string) (kadm.ListedOffsets, error) {
	offs, err := list(ctx, topics...)
	if err != nil {
		return nil, err
	}
	for t, ps := range offs {
		for p, o := range ps {
			switch {
			case o.Err == nil:
			case errors.Is(o.Err, kerr.UnknownTopicOrPartition):
				delete(ps, p)
			default:
				return nil, fmt.Errorf("topic %s partition %d: %w", t, p, o.Err)
			}
		}
	}
	return offs, nil
}

func (c *Consumer) tryAttach(ctx context.Context, adm *kadm.Client) (int64, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	source, sent := c.cfg.SourceTime(), time.Now()
	ends, err := listOffsets(actx, adm.ListEndOffsets, c.cfg.Topics)
	if err != nil {
		return 0, fmt.Errorf("list end offsets: %w", err)
	}
	since := time.Now().Add(-c.cfg.ReplayWindow).UnixMilli()
	starts, err := listOffsets(actx, func(ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
		return adm.ListOffsetsAfterMilli(ctx, since, topics...)
	}, c.cfg.Topics)
	if err != nil {
		return 0, fmt.Errorf("list offsets after %d: %w", since, err)
	}
	c.mu.Lock()
	c.prog.attach(sent, source, offsetMap(starts), offsetMap(ends))
	c.attached, c.attachedAt, c.lastProbe, c.probeErr = true, sent, sent, nil
	c.publishHorizon()
	n := len(c.prog.parts)
	c.mu.Unlock()
	close(c.attachedCh)
	c.log.Info("change consumer attached", "topics", c.cfg.Topics, "partitions", n,
		"replay_window", c.cfg.ReplayWindow.String())
	return since, nil
}

func offsetMap(offs kadm.ListedOffsets) map[topicPartition]int64 {
	m := map[topicPartition]int64{}
	offs.Each(func(o kadm.ListedOffset) { m[topicPartition{o.Topic, o.Partition}] = o.Offset })
	return m
}

// publishHorizon makes the progress's horizon visible to Horizon; the
// caller holds mu.
func (c *Consumer) publishHorizon() {
	h := c.prog.horizon
	if cur := c.horizon.Load(); !h.sent.Equal(cur.Consumed) {
		c.horizon.Store(&app.StreamHorizon{Consumed: h.sent, Source: h.source})
	}
}

func (c *Consumer) consumed(k topicPartition, next int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prog.consumed(k, next)
	c.publishHorizon()
}

// probeLoop lists the end offsets every ProbeInterval. A probe's send time
// is taken before the request, and only a probe that succeeds is recorded:
// a probe sent before the process was paused, or answered after a long
// wait, can only make the horizon older than it could be, never newer than
// what it proves.
func (c *Consumer) probeLoop(ctx context.Context, adm *kadm.Client) {
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// The source time first: every record behind it was consumed, so
		// appended, before sent.
		source, sent := c.cfg.SourceTime(), time.Now()
		pctx, cancel := context.WithTimeout(ctx, max(c.cfg.ProbeInterval*2, time.Second))
		ends, err := listOffsets(pctx, adm.ListEndOffsets, c.cfg.Topics)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		if err != nil {
			if c.probeErr == nil {
				c.log.Warn("change stream probe failed", "err", err)
			}
			c.probeErr = err
			c.mu.Unlock()
			continue
		}
		if c.probeErr != nil {
			c.log.Info("change stream probe recovered")
		}
		c.probeErr, c.lastProbe = nil, sent
		c.prog.probed(probe{sent: sent, source: source, ends: offsetMap(ends)})
		c.publishHorizon()
		c.mu.Unlock()
	}
}

// Attached is closed once the consumer knows where it starts in every
// partition: from then on, no change committed later can be missed.
func (c *Consumer) Attached() <-chan struct{} { return c.attachedCh }

// Horizon implements app.Stream: every record appended to the topics
// before Consumed has been handed to the handler, and with it every change
// the source committed before Source. It does not block.
func (c *Consumer) Horizon() app.StreamHorizon { return *c.horizon.Load() }

// State implements app.Stream.
func (c *Consumer) State() app.StreamState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return app.StreamState{Attached: c.attached, ProbeError: c.probeErr, LagRecords: c.prog.lag()}
}

// Status is the consumer's view of its own progress.
type Status struct {
	Attached   bool      // start offsets resolved and consuming
	AttachedAt time.Time // when the start offsets were listed
	CaughtUp   bool      // consumed up to the end offsets seen when attaching
	LastProbe  time.Time // send time of the last successful probe
	ProbeError error     // last probe error, if the last probe failed
	LagRecords int64     // sum over partitions of end − next at the last probe
	Horizon    app.StreamHorizon
	Partitions []PartitionStatus
}

// PartitionStatus is one partition's progress.
type PartitionStatus struct {
	Topic      string
	Partition  int32
	LagRecords int64 // end − next at the last probe
	// CaughtUpAt: every record appended to the partition before it has
	// been consumed (zero: not caught up since the consumer attached).
	CaughtUpAt time.Time
}

// Status returns the consumer's current status.
func (c *Consumer) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{Attached: c.attached, AttachedAt: c.attachedAt, CaughtUp: c.prog.caughtUp(), LastProbe: c.lastProbe, ProbeError: c.probeErr, Horizon: *c.horizon.Load()}
	for k, p := range c.prog.parts {
		lag := p.lag()
		st.LagRecords += lag
		st.Partitions = append(st.Partitions, PartitionStatus{Topic: k.topic, Partition: k.partition, LagRecords: lag, CaughtUpAt: p.caughtUpAt})
	}
	return st
}
