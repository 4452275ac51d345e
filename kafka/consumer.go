package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
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
	Logger        *slog.Logger
}

// Consumer reads every partition of the change topics — every node sees
// every change, so there is no consumer group — and hands the records to a
// handler, in order per partition. It measures its lag against the
// broker's end offsets and says when it has caught up with where the
// topics were when it attached.
type Consumer struct {
	cfg    ConsumerConfig
	handle func([]app.Message)
	log    *slog.Logger
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
	next       int64     // next offset to consume
	target     int64     // end offset when attached: caught up once next ≥ target
	end        int64     // end offset at the last probe
	behindAt   time.Time // when a probe first saw end > next (zero: not behind)
	behindEnd  int64     // the end offset that probe saw
	lastRecord time.Time // timestamp of the last consumed record
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
	return &Consumer{cfg: cfg, handle: handle, log: log, attachedCh: make(chan struct{})}, nil
}

// Run attaches (retrying until the topics exist and the broker answers),
// then consumes until ctx ends. It returns nil when ctx ends.
func (c *Consumer) Run(ctx context.Context) error {
	admClient, err := kgo.NewClient(kgo.SeedBrokers(c.cfg.Brokers...), kgo.WithLogger(publisherLogger{c.log}))
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer admClient.Close()
	adm := kadm.NewClient(admClient)

	start, err := c.attach(ctx, adm)
	if err != nil {
		return nil // ctx ended while attaching
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(c.cfg.Brokers...),
		kgo.ConsumePartitions(start),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.WithLogger(publisherLogger{c.log}),
	)
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
			c.consumed(tp{last.Topic, last.Partition}, last.Offset+1, last.Timestamp)
		})
	}
}

// attach resolves where to start in every partition (the first record
// younger than the replay window) and the catch-up target (the end offsets
// now). It retries until it succeeds or ctx ends.
func (c *Consumer) attach(ctx context.Context, adm *kadm.Client) (map[string]map[int32]kgo.Offset, error) {
	for attempt := 0; ; attempt++ {
		start, err := c.tryAttach(ctx, adm)
		if err == nil {
			return start, nil
		}
		c.mu.Lock()
		c.probeErr = err
		c.mu.Unlock()
		if attempt%10 == 0 {
			c.log.Warn("change consumer cannot attach yet; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *Consumer) tryAttach(ctx context.Context, adm *kadm.Client) (map[string]map[int32]kgo.Offset, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(actx, c.cfg.Topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	for _, t := range c.cfg.Topics {
		if len(ends[t]) == 0 {
			return nil, fmt.Errorf("topic %s does not exist (yet)", t)
		}
	}
	since := time.Now().Add(-c.cfg.ReplayWindow).UnixMilli()
	starts, err := adm.ListOffsetsAfterMilli(actx, since, c.cfg.Topics...)
	if err != nil {
		return nil, fmt.Errorf("list offsets after %d: %w", since, err)
	}
	if err := starts.Error(); err != nil {
		return nil, fmt.Errorf("list offsets after %d: %w", since, err)
	}
	out := map[string]map[int32]kgo.Offset{}
	parts := map[tp]*partState{}
	now := time.Now()
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := starts.Lookup(e.Topic, e.Partition)
		off := e.Offset
		if ok && s.Offset >= 0 && s.Offset < off {
			off = s.Offset
		}
		if out[e.Topic] == nil {
			out[e.Topic] = map[int32]kgo.Offset{}
		}
		out[e.Topic][e.Partition] = kgo.NewOffset().At(off)
		parts[tp{e.Topic, e.Partition}] = &partState{next: off, target: e.Offset, end: e.Offset}
	})
	c.mu.Lock()
	c.parts, c.attached, c.lastProbe, c.probeErr = parts, true, now, nil
	c.mu.Unlock()
	close(c.attachedCh)
	c.log.Info("change consumer attached", "topics", c.cfg.Topics, "partitions", len(parts),
		"replay_window", c.cfg.ReplayWindow)
	return out, nil
}

func (c *Consumer) consumed(k tp, next int64, ts time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[k]
	if p == nil {
		return
	}
	p.next, p.lastRecord = next, ts
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
		ends, err := adm.ListEndOffsets(pctx, c.cfg.Topics...)
		cancel()
		if err == nil {
			err = ends.Error()
		}
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
			p := c.parts[tp{e.Topic, e.Partition}]
			if p == nil {
				return // a partition added after attaching: see docs
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
