package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gintoki/gintoki/relay"
)

// CheckpointDefaultTopic is the checkpoint topic when none is given.
const CheckpointDefaultTopic = "gintoki-relay-offsets"

// checkpointTimeout bounds one Load or Save against an unresponsive broker.
const checkpointTimeout = 30 * time.Second

// CheckpointConfig configures a Checkpoint.
type CheckpointConfig struct {
	Brokers []string // seed brokers, host:port
	// Topic holds the positions: one partition, compacted, created with
	// cleanup.policy=compact if missing (CheckpointDefaultTopic if empty).
	Topic string
	// Key identifies the relay whose position this is; every relay of one
	// pair (or more) uses the same key, relays of other databases other
	// keys. Required.
	Key string
	// ReplicationFactor of the topic if it is created; zero or -1 leaves it
	// to the broker's default.
	ReplicationFactor int16
	// Security: TLS and SASL towards the brokers (zero: plaintext).
	Security SecurityConfig
	Logger   *slog.Logger // nil discards logs
}

// Checkpoint keeps the relay's position in a compacted Kafka topic, as
// Debezium keeps its offsets in offset.storage.topic: each Save is a record
// keyed by the relay's identity, and Load reads the topic from its start to
// its end and keeps the last record of that key. The position so lives as
// long and as safely as the change topics themselves: a relay started on a
// new machine, with no local state, resumes where the last one stopped.
//
// Writes are synchronous and acknowledged by all in-sync replicas. Two
// relays writing the same key (a leader that has just lost its lease, and
// its successor) cannot lose anything: each only ever saves a position
// whose changes are all in the broker, so the last write, whoever made it,
// is safe to resume from, at worst replaying a little.
type Checkpoint struct {
	client *kgo.Client
	admin  *kadm.Client
	base   []kgo.Opt // clientOptions, for the short-lived reading client
	topic  string
	key    string
	repl   int16
	log    *slog.Logger
}

var _ relay.Checkpoint = (*Checkpoint)(nil)

// NewCheckpoint returns a Checkpoint connected (lazily) to cfg.Brokers.
// Close it when done.
func NewCheckpoint(cfg CheckpointConfig) (*Checkpoint, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka checkpoint: no brokers")
	}
	if cfg.Key == "" {
		return nil, errors.New("kafka checkpoint: no key")
	}
	if cfg.Topic == "" {
		cfg.Topic = CheckpointDefaultTopic
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	base, log, err := clientOptions(cfg.Brokers, cfg.Security, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("kafka checkpoint: %w", err)
	}
	client, err := kgo.NewClient(append(base, producerOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka checkpoint: %w", err)
	}
	return &Checkpoint{
		client: client, admin: kadm.NewClient(client), base: base,
		topic: cfg.Topic, key: cfg.Key, repl: cfg.ReplicationFactor, log: log,
	}, nil
}

// Close closes the connections.
func (c *Checkpoint) Close() { c.client.Close() }

// checkpointRecord is a record's value. Relay and SavedAt are for people
// reading the topic.
type checkpointRecord struct {
	File    string    `json:"file"`
	Pos     uint64    `json:"pos"`
	SavedAt time.Time `json:"saved_at"`
	Relay   string    `json:"relay,omitempty"` // host name of the relay that saved it
}

// Load implements relay.Checkpoint: the last position saved under the key,
// or the zero BinlogPosition if there is none (none was ever saved, or the last
// record is a tombstone written by Reset). It creates the topic if missing.
func (c *Checkpoint) Load(ctx context.Context) (relay.BinlogPosition, error) {
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	if err := c.ensureTopic(ctx); err != nil {
		return relay.BinlogPosition{}, err
	}
	ends, err := c.admin.ListEndOffsets(ctx, c.topic)
	if err != nil {
		return relay.BinlogPosition{}, fmt.Errorf("checkpoint topic %s: end offsets: %w", c.topic, err)
	}
	if err := ends.Error(); err != nil {
		return relay.BinlogPosition{}, fmt.Errorf("checkpoint topic %s: end offsets: %w", c.topic, err)
	}
	end := make(map[int32]int64)
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			end[o.Partition] = o.Offset
		}
	})
	if len(end) == 0 {
		return relay.BinlogPosition{}, nil
	}
	// A short-lived client of its own: the producing client stays free of
	// consumer state.
	parts := make(map[int32]kgo.Offset, len(end))
	for p := range end {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cons, err := kgo.NewClient(append(c.base,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: parts}),
	)...)
	if err != nil {
		return relay.BinlogPosition{}, fmt.Errorf("checkpoint consumer: %w", err)
	}
	defer cons.Close()
	var last *kgo.Record
	for len(end) > 0 {
		fetches := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return relay.BinlogPosition{}, fmt.Errorf("read checkpoint topic %s: %w", c.topic, err)
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err)) })
		if ferr != nil {
			return relay.BinlogPosition{}, fmt.Errorf("read checkpoint topic: %w", ferr)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			// One partition in practice; with more, the key's records
			// still all sit in one of them, in order.
			if string(r.Key) == c.key {
				last = r
			}
			if r.Offset+1 >= end[r.Partition] {
				delete(end, r.Partition)
			}
		})
	}
	if last == nil || last.Value == nil {
		return relay.BinlogPosition{}, nil
	}
	var v checkpointRecord
	if err := json.Unmarshal(last.Value, &v); err != nil {
		return relay.BinlogPosition{}, fmt.Errorf("checkpoint %s[%d]@%d: %w", c.topic, last.Partition, last.Offset, err)
	}
	if v.File == "" {
		return relay.BinlogPosition{}, fmt.Errorf("checkpoint %s[%d]@%d names no binlog file", c.topic, last.Partition, last.Offset)
	}
	c.log.Info("checkpoint loaded", "topic", c.topic, "key", c.key, "file", v.File, "pos", v.Pos,
		"saved_at", v.SavedAt, "saved_by", v.Relay)
	return relay.BinlogPosition{File: v.File, Pos: v.Pos}, nil
}

// Save implements relay.Checkpoint: it returns once the broker has
// acknowledged the record.
func (c *Checkpoint) Save(ctx context.Context, p relay.BinlogPosition) error {
	host, _ := os.Hostname() // informative only
	b, err := json.Marshal(checkpointRecord{File: p.File, Pos: p.Pos, SavedAt: time.Now().UTC(), Relay: host})
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	return c.produce(ctx, b)
}

// Reset forgets the position: it writes a tombstone under the key, so that
// the next relay to start begins at the current end of the binary log.
func (c *Checkpoint) Reset(ctx context.Context) error {
	if err := c.ensureTopic(ctx); err != nil {
		return err
	}
	return c.produce(ctx, nil)
}

func (c *Checkpoint) produce(ctx context.Context, value []byte) error {
	ctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
	defer cancel()
	r := &kgo.Record{Topic: c.topic, Key: []byte(c.key), Value: value}
	if err := c.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("write checkpoint to %s: %w", c.topic, err)
	}
	return nil
}

// ensureTopic creates the checkpoint topic, compacted with one partition,
// if it does not exist.
func (c *Checkpoint) ensureTopic(ctx context.Context) error {
	policy := "compact"
	resp, err := c.admin.CreateTopic(ctx, 1, c.repl, map[string]*string{"cleanup.policy": &policy}, c.topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		c.log.Info("created checkpoint topic", "topic", c.topic)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return nil
	default:
		return fmt.Errorf("create checkpoint topic %s: %w", c.topic, err)
	}
}
