// Package kafka adapts Apache Kafka, through franz-go: the relay's
// Publisher produces change events, and the service's consumer reads them.
//
// It imports the domain and the ports of app and relay; never another
// adapter (decoding records is debezium's job, handed in as app.Decoder).
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

	"github.com/gintoki/gintoki/relay"
)

// Defaults for the zero values of PublisherConfig.
const (
	PublisherDefaultPartitions = 6
	// publisherCreateTimeout bounds one attempt to create missing topics.
	publisherCreateTimeout = 30 * time.Second
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Brokers []string // seed brokers, host:port
	// Partitions is the partition count of the topics the Publisher
	// creates; PublisherDefaultPartitions if zero.
	Partitions int32
	// ReplicationFactor of the topics the Publisher creates; zero or -1
	// leaves it to the broker's default.
	ReplicationFactor int16
	// Security: TLS and SASL towards the brokers (zero: plaintext).
	Security SecurityConfig
	Logger   *slog.Logger // nil discards logs
}

// Publisher produces the relay's messages with franz-go: idempotently, each
// acknowledged by all in-sync replicas, keyed records partitioned by
// murmur2 of the key as Kafka's Java client (and so Debezium) does, so all
// changes of one row land in one partition, in order. It creates missing
// topics before the first message to each.
type Publisher struct {
	client      *kgo.Client
	admin       *kadm.Client
	partitions  int32
	replication int16
	log         *slog.Logger

	mu    sync.Mutex
	known map[string]bool // guarded by mu: topics that exist
}

var _ relay.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher connected (lazily) to cfg.Brokers. Close
// it when done.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka publisher: no brokers")
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = PublisherDefaultPartitions
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	base, log, err := clientOptions(cfg.Brokers, cfg.Security, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("kafka publisher: %w", err)
	}
	client, err := kgo.NewClient(append(base, producerOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka publisher: %w", err)
	}
	return &Publisher{
		client:      client,
		admin:       kadm.NewClient(client),
		partitions:  cfg.Partitions,
		replication: cfg.ReplicationFactor,
		log:         log,
		known:       make(map[string]bool),
	}, nil
}

// Close closes the connections. Messages not yet acknowledged fail.
func (p *Publisher) Close() { p.client.Close() }

// Publish implements relay.Publisher. Records are produced with a context
// that ctx's end does not cancel, so a stopping relay can still wait for
// what it has published; franz-go retries until the broker answers.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.BrokerRecord, done func(error)) {
	if len(msgs) == 0 {
		done(nil)
		return
	}
	// A broker that is restarting or unreachable is waited for, as the
	// producer itself does: only the relay's own stop ends the wait.
	for attempt := 0; ; attempt++ {
		err := p.ensureTopics(ctx, msgs)
		if err == nil {
			break
		}
		if attempt%10 == 0 {
			p.log.Warn("cannot create the change topics yet; retrying", "attempt", attempt+1, "err", err)
		}
		select {
		case <-ctx.Done():
			done(fmt.Errorf("%w (stopped while retrying: %w)", err, ctx.Err()))
			return
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second)):
		}
	}
	b := &publisherBatch{done: done}
	b.remaining.Store(int64(len(msgs)))
	recCtx := context.WithoutCancel(ctx)
	// One allocation for the records of the whole call (the relay
	// publishes about a thousand at a time); the client holds each until
	// its promise, and the slice lives until the last one.
	recs := make([]kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = kgo.Record{Topic: m.Topic, Key: m.Key, Value: m.Value}
		p.client.Produce(recCtx, &recs[i], b.promise)
	}
}

// publisherBatch calls done once for a Publish: at the first failure, or
// when the last record is acknowledged.
type publisherBatch struct {
	remaining atomic.Int64
	failed    atomic.Bool
	done      func(error)
}

func (b *publisherBatch) promise(r *kgo.Record, err error) {
	if err != nil {
		if b.failed.CompareAndSwap(false, true) {
			b.done(fmt.Errorf("produce to %s: %w", r.Topic, err))
		}
		return
	}
	if b.remaining.Add(-1) == 0 && !b.failed.Load() {
		b.done(nil)
	}
}

// ensureTopics creates the topics of msgs that are not known to exist. A
// topic that already exists is fine, whatever its partition count.
func (p *Publisher) ensureTopics(ctx context.Context, msgs []relay.BrokerRecord) error {
	var missing []string
	listed := make(map[string]bool)
	p.mu.Lock()
	for _, m := range msgs {
		if !p.known[m.Topic] && !listed[m.Topic] {
			listed[m.Topic] = true
			missing = append(missing, m.Topic)
		}
	}
	p.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, publisherCreateTimeout)
	defer cancel()
	resps, err := p.admin.CreateTopics(ctx, p.partitions, p.replication, nil, missing...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", missing, err)
	}
	var errs []error
	for _, t := range missing {
		r, ok := resps[t]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("create topic %s: no answer from the broker", t))
		case r.Err == nil:
			p.log.Info("created topic", "topic", t, "partitions", p.partitions)
			p.markKnown(t)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			p.markKnown(t)
		default:
			errs = append(errs, fmt.Errorf("create topic %s: %w (%s)", t, r.Err, r.ErrMessage))
		}
	}
	return errors.Join(errs...)
}

func (p *Publisher) markKnown(topic string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.known[topic] = true
}
