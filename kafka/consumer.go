package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	// offsets, to measure lag and detect a lost broker (default 1s).
	ProbeInterval time.Duration
	// Security: TLS and SASL towards the brokers (zero: plaintext).
	Security SecurityConfig
	Logger   *slog.Logger
}

// Consumer reads every partition of the change topics — every node sees
// every change, so there is no consumer group — and hands the records to a
// handler, in order per partition. It measures its lag against the
// broker's end offsets and says when it has caught up with where the
// topics were when it attached.
type Consumer struct {
	cfg    ConsumerConfig
	handle func([]app.Message)
	// security holds the client options of cfg.Security, every client's.
	security []kgo.Opt
	log      *slog.Logger
	// attachedCh is closed once the start offsets are resolved.
	attachedCh chan struct{}

	mu sync.Mutex // protects the fields below
	// parts holds the state of each partition once attached.
	parts     map[tp]*partState
	attached  bool      // start offsets resolved and client consuming
	lastProbe time.Time // last successful end-offsets probe
	probeErr  error     // last probe error
}

type tp struct {
	topic     string
	partition int32
}

type partState struct {
	next      int64     // next offset to consume
	target    int64     // end offset when attached: caught up once next ≥ target
	end       int64     // end offset at the last probe
	behindAt  time.Time // when a probe first saw end > next (zero: not behind)
	behindEnd int64     // the end offset that probe saw
}

// NewConsumer returns a Consumer; Run starts it.
func NewConsumer(cfg ConsumerConfig, handle func([]app.Message)) (*Consumer, error) {
	if len(cfg.Brokers) == 0 || len(cfg.Topics) == 0 {
		return nil, errors.New("kafka consumer: brokers and topics are required")
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = 10 * time.Second
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	security, err := cfg.Security.ClientOptions()
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	return &Consumer{cfg: cfg, handle: handle, security: security, log: log, attachedCh: make(chan struct{})}, nil
}

// Run attaches (retrying until the broker answers), then consumes until ctx
// ends. It returns nil when ctx ends. Call it once.
func (c *Consumer) Run(ctx context.Context) error {
	admClient, err := kgo.NewClient(append(c.clientOpts(), kgo.WithLogger(publisherLogger{c.log}))...)
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
	client, err := kgo.NewClient(append(c.clientOpts(),
		kgo.ConsumeTopics(c.cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(since)),
		kgo.MetadataMaxAge(5*time.Second),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.WithLogger(publisherLogger{c.log}),
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

	var batch []app.Message
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
				batch = append(batch, app.Message{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value})
			}
			c.handle(batch)
			last := p.Records[len(p.Records)-1]
			c.consumed(tp{last.Topic, last.Partition}, last.Offset+1)
		})
	}
}

// clientOpts returns the options every client of the consumer starts
// from: the seed brokers and the security settings.
func (c *Consumer) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(c.cfg.Brokers...)}, c.security...)
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
	parts := map[tp]*partState{}
	ends.Each(func(e kadm.ListedOffset) {
		off := e.Offset
		if s, ok := starts.Lookup(e.Topic, e.Partition); ok && s.Offset >= 0 && s.Offset < off {
			off = s.Offset
		}
		parts[tp{e.Topic, e.Partition}] = &partState{next: off, target: e.Offset, end: e.Offset}
	})
	c.mu.Lock()
	c.parts, c.attached, c.lastProbe, c.probeErr = parts, true, time.Now(), nil
	c.mu.Unlock()
	close(c.attachedCh)
	c.log.Info("change consumer attached", "topics", c.cfg.Topics, "partitions", len(parts),
		"replay_window", c.cfg.ReplayWindow.String())
	return since, nil
}

func (c *Consumer) consumed(k tp, next int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[k]
	if p == nil { // a topic or partition created after attaching
		p = &partState{}
		c.parts[k] = p
	}
	p.next = next
	if !p.behindAt.IsZero() && next >= p.behindEnd {
		p.behindAt = time.Time{}
	}
}

func (c *Consumer) probeLoop(ctx context.Context, adm *kadm.Client) {
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.cfg.ProbeInterval*2)
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
		now := time.Now()
		c.probeErr, c.lastProbe = nil, now
		ends.Each(func(e kadm.ListedOffset) {
			k := tp{e.Topic, e.Partition}
			p := c.parts[k]
			if p == nil { // created after attaching: read from its start
				p = &partState{}
				c.parts[k] = p
			}
			p.end = e.Offset
			if e.Offset > p.next && p.behindAt.IsZero() {
				p.behindAt, p.behindEnd = now, e.Offset
			}
		})
		c.mu.Unlock()
	}
}

// Attached is closed once the consumer knows where it starts in every
// partition: from then on, no change committed later can be missed.
func (c *Consumer) Attached() <-chan struct{} { return c.attachedCh }

// Status is the consumer's view of its own freshness.
type Status struct {
	Attached   bool          // start offsets resolved and consuming
	CaughtUp   bool          // consumed up to the end offsets seen when attaching
	LastProbe  time.Time     // last successful contact with the broker's offsets
	ProbeError error         // last probe error, if the last probe failed
	LagRecords int64         // sum over partitions of end − next at the last probe
	Behind     time.Duration // longest time a partition has had unconsumed records (0 if none)
	Partitions []PartitionStatus
}

// PartitionStatus is one partition's lag.
type PartitionStatus struct {
	Topic      string
	Partition  int32
	LagRecords int64
	Behind     time.Duration
}

// Status returns the consumer's current status.
func (c *Consumer) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	st := Status{Attached: c.attached, CaughtUp: c.attached, LastProbe: c.lastProbe, ProbeError: c.probeErr}
	for k, p := range c.parts {
		if p.next < p.target {
			st.CaughtUp = false
		}
		lag := max(p.end-p.next, 0)
		var behind time.Duration
		if !p.behindAt.IsZero() {
			behind = now.Sub(p.behindAt)
		}
		st.LagRecords += lag
		st.Behind = max(st.Behind, behind)
		st.Partitions = append(st.Partitions, PartitionStatus{Topic: k.topic, Partition: k.partition, LagRecords: lag, Behind: behind})
	}
	return st
}
