package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/relay"
)

// EncoderDefaultPrefix is the topic prefix (Debezium's topic.prefix, also
// the source block's "name") when none is given.
const EncoderDefaultPrefix = "gintoki"

// HeartbeatTopicPrefix starts the name of the heartbeat topic,
// <HeartbeatTopicPrefix>.<topic prefix>: Debezium's default
// heartbeat.topics.prefix.
const HeartbeatTopicPrefix = "__debezium-heartbeat"

// HeartbeatTopic returns the heartbeat topic for a topic prefix.
func HeartbeatTopic(prefix string) string { return HeartbeatTopicPrefix + "." + prefix }

// encodeVersion and encodeConnector fill the source block's "version" and
// "connector": consumers can tell the relay's events from Debezium's by
// the version, and read both as MySQL connector events.
const (
	encodeVersion   = "gintoki"
	encodeConnector = "mysql"
)

// Encoder turns the relay's row changes into Kafka records shaped like
// those of Debezium's MySQL connector with the JSON converter and
// schemas.enable=false:
//
//   - topic <prefix>.<database>.<table>;
//   - key: the primary key columns as a JSON object, in key order, or no
//     key (null) for a table without a primary key;
//   - value: the envelope {before, after, source, op, ts_ms, transaction},
//     rows with their columns in table order; integers are JSON numbers,
//     text is a string, binary columns ([]byte) are base64 strings, as
//     Debezium's default binary.handling.mode=bytes has it;
//   - after a delete, a tombstone: the same key and no value, so that a
//     compacted topic forgets the row.
//
// An Encoder is safe for concurrent use. It writes each record with
// appends into one buffer per row change (the relay encodes every row of
// every transaction; reflection and per-field allocations would cost more
// than the rest of the relay together).
type Encoder struct {
	prefix string
	now    func() time.Time // stamps the envelope's ts_ms
	// sourceHead is the source block's constant start, up to its "ts_ms"
	// value: {"source":{"version":…,"connector":…,"name":…,"ts_ms":
	sourceHead []byte
	// topic caches the last table's topic name: the rows of a transaction
	// are nearly always of one table, and building the name would allocate
	// for each.
	topic atomic.Pointer[encodeTopic]
	// sizeHint is the size of a recent row change's key and value: a new
	// buffer is made that large, so that it seldom grows. A hint only:
	// concurrent writes may lose one.
	sizeHint atomic.Int64
}

// encodeTopic is one table's topic name.
type encodeTopic struct{ database, table, topic string }

var _ relay.Encoder = (*Encoder)(nil)

// NewEncoder returns an Encoder for the given topic prefix;
// EncoderDefaultPrefix if prefix is empty.
func NewEncoder(prefix string) *Encoder {
	if prefix == "" {
		prefix = EncoderDefaultPrefix
	}
	e := &Encoder{prefix: prefix, now: time.Now}
	h := append([]byte(nil), `,"source":{"version":`...)
	h = appendString(h, encodeVersion)
	h = append(h, `,"connector":`...)
	h = appendString(h, encodeConnector)
	h = append(h, `,"name":`...)
	h = appendString(h, prefix)
	e.sourceHead = append(h, `,"ts_ms":`...)
	return e
}

// Topic returns the topic of the changes of one table.
func (e *Encoder) Topic(database, table string) string {
	if t := e.topic.Load(); t != nil && t.database == database && t.table == table {
		return t.topic
	}
	t := &encodeTopic{database: database, table: table, topic: e.prefix + "." + database + "." + table}
	e.topic.Store(t)
	return t.topic
}

// Heartbeat implements relay.Encoder with the record Debezium's MySQL
// connector sends when heartbeat.interval.ms is set: topic
// __debezium-heartbeat.<prefix>, key {"serverName": prefix}, value
// {"ts_ms": at in Unix milliseconds}.
func (e *Encoder) Heartbeat(at time.Time) relay.BrokerRecord {
	key, _ := json.Marshal(struct {
		ServerName string `json:"serverName"`
	}{e.prefix}) // cannot fail: a string field
	return relay.BrokerRecord{
		Topic: HeartbeatTopic(e.prefix),
		Key:   key,
		Value: fmt.Appendf(nil, `{"ts_ms":%d}`, at.UnixMilli()),
	}
}

// Encode returns the messages of one row change: see Append.
func (e *Encoder) Encode(c relay.RowChange) ([]relay.BrokerRecord, error) {
	return e.Append(nil, c)
}

// Append implements relay.Encoder: it appends one record to msgs, two for
// a delete (the event, then the tombstone), and three for an update of the
// primary key (delete, tombstone, create). On an error msgs is returned as
// it was given.
func (e *Encoder) Append(msgs []relay.BrokerRecord, c relay.RowChange) ([]relay.BrokerRecord, error) {
	row := c.After
	switch c.Op {
	case relay.OpCreate:
		if c.After == nil || c.Before != nil {
			return msgs, errors.New("a create needs an after image and no before image")
		}
	case relay.OpUpdate:
		if c.After == nil || c.Before == nil {
			return msgs, errors.New("an update needs before and after images")
		}
	case relay.OpDelete:
		if c.Before == nil || c.After != nil {
			return msgs, errors.New("a delete needs a before image and no after image")
		}
		row = c.Before
	default:
		return msgs, fmt.Errorf("unknown op %q", c.Op)
	}

	// One buffer holds the key, then the value: one allocation per change.
	b := make([]byte, 0, e.sizeHint.Load()+64)
	b, err := appendKey(b, c.Key, row)
	if err != nil {
		return msgs, err
	}
	keyLen := len(b)
	if c.Op == relay.OpUpdate {
		// The before image's key, compared with the after image's, and
		// then dropped.
		if b, err = appendKey(b, c.Key, c.Before); err != nil {
			return msgs, err
		}
		if string(b[:keyLen]) != string(b[keyLen:]) {
			// As Debezium does: an update of the primary key is a delete of
			// the old key (and its tombstone) and a create of the new one,
			// each in its key's partition.
			del, ins := c, c
			del.Op, del.After = relay.OpDelete, nil
			ins.Op, ins.Before = relay.OpCreate, nil
			out, err := e.Append(msgs, del)
			if err != nil {
				return msgs, err
			}
			if out, err = e.Append(out, ins); err != nil {
				return msgs, err
			}
			return out, nil
		}
		b = b[:keyLen]
	}
	if len(c.Key) == 0 {
		keyLen = -1 // no key: a null key, not an empty one
	}

	b = append(b, `{"before":`...)
	if b, err = appendRow(b, c.Columns, c.Before); err != nil {
		return msgs, fmt.Errorf("before image: %w", err)
	}
	b = append(b, `,"after":`...)
	if b, err = appendRow(b, c.Columns, c.After); err != nil {
		return msgs, fmt.Errorf("after image: %w", err)
	}
	b = e.appendSource(b, c)
	b = append(b, `,"op":"`...)
	b = append(b, c.Op)
	b = append(b, `","ts_ms":`...)
	b = strconv.AppendInt(b, e.now().UnixMilli(), 10)
	b = append(b, `,"transaction":null}`...)
	e.sizeHint.Store(int64(len(b)))

	var key, value []byte
	if keyLen < 0 {
		value = b
	} else {
		key, value = b[:keyLen:keyLen], b[keyLen:]
	}
	topic := e.Topic(c.Database, c.Table)
	msgs = append(msgs, relay.BrokerRecord{Topic: topic, Key: key, Value: value})
	if c.Op == relay.OpDelete {
		msgs = append(msgs, relay.BrokerRecord{Topic: topic, Key: key})
	}
	return msgs, nil
}

// appendSource appends the envelope's "source" block, fields in
// Debezium's order, as encoding/json would write them.
func (e *Encoder) appendSource(b []byte, c relay.RowChange) []byte {
	var ts int64
	if !c.Source.Time.IsZero() {
		ts = c.Source.Time.UnixMilli()
	}
	b = append(b, e.sourceHead...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"snapshot":"false","db":`...)
	b = appendString(b, c.Database)
	b = append(b, `,"sequence":null,"table":`...)
	b = appendString(b, c.Table)
	b = append(b, `,"server_id":`...)
	b = strconv.AppendUint(b, uint64(c.Source.ServerID), 10)
	b = append(b, `,"gtid":`...)
	if c.Source.GTID == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, c.Source.GTID)
	}
	b = append(b, `,"file":`...)
	b = appendString(b, c.Source.File)
	b = append(b, `,"pos":`...)
	b = strconv.AppendUint(b, c.Source.Pos, 10)
	b = append(b, `,"row":`...)
	b = strconv.AppendUint(b, uint64(c.Source.Row), 10)
	return append(b, `,"thread":null,"query":null}`...)
}
