// The change event's envelope: the value's outer layer (bare or in the
// JsonConverter's schema wrapper), its source block, row images and keys,
// and heartbeat records.

package debezium

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// envelope is the part of a change event value the decoder reads.
// Raw fields are parsed by hand so that type and range errors name the
// field; fields it does not need (schema, transaction, ts_us...) are
// skipped, so that additions in newer Debezium versions do no harm.
type envelope struct {
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	Source *sourceFields   `json:"source"`
	Op     *string         `json:"op"`
}

// sourceFields is the part of the source block the decoder reads.
type sourceFields struct {
	Table    *string         `json:"table"`
	File     *string         `json:"file"`
	Pos      json.RawMessage `json:"pos"`
	Row      json.RawMessage `json:"row"`
	TsMs     json.RawMessage `json:"ts_ms"`
	Snapshot json.RawMessage `json:"snapshot"`
}

// wrappedEnvelope is either a bare envelope or the JsonConverter's wrapper
// around one; a single pass reads both shapes.
type wrappedEnvelope struct {
	envelope
	Payload json.RawMessage `json:"payload"`
}

// parseEnvelope parses a record value. ok is false for a tombstone. A
// value that is not an envelope is read as a row flattened by
// ExtractNewRecordState.
func parseEnvelope(value []byte) (env envelope, ok bool, err error) {
	if len(value) == 0 || isNull(bytes.TrimSpace(value)) {
		return env, false, nil
	}
	var rec wrappedEnvelope
	if err := json.Unmarshal(value, &rec); err != nil {
		return env, false, fmt.Errorf("value: %v", err)
	}
	body := json.RawMessage(value)
	env = rec.envelope
	if rec.Payload != nil {
		if isNull(rec.Payload) {
			return env, false, nil
		}
		body, env = rec.Payload, envelope{}
		if err := json.Unmarshal(rec.Payload, &env); err != nil {
			return env, false, fmt.Errorf("value payload: %v", err)
		}
	}
	if env.Op == nil && env.Source == nil && env.Before == nil && env.After == nil {
		env, err = parseFlattened(body)
		return env, err == nil, err
	}
	return env, true, nil
}

// parseHeartbeat decodes a heartbeat record's value, {"ts_ms": N} bare or
// in the JsonConverter's wrapper, into an inventory.Heartbeat.
func parseHeartbeat(value []byte) (inventory.Change, error) {
	if len(value) == 0 || isNull(bytes.TrimSpace(value)) {
		return nil, nil
	}
	type beat struct {
		TsMs *int64 `json:"ts_ms"`
	}
	var rec struct {
		beat
		Payload *beat `json:"payload"`
	}
	if err := json.Unmarshal(value, &rec); err != nil {
		return nil, fmt.Errorf("%w: heartbeat: %v", ErrMalformed, err)
	}
	ts := rec.TsMs
	if rec.Payload != nil {
		ts = rec.Payload.TsMs
	}
	if ts == nil || *ts <= 0 {
		return nil, fmt.Errorf("%w: heartbeat without ts_ms", ErrMalformed)
	}
	return inventory.Heartbeat{At: time.UnixMilli(*ts)}, nil
}

// columns is one row image (before or after, or a key): column name to
// raw JSON value.
type columns map[string]json.RawMessage

// parseRow parses a row image; a missing or null image is a nil row.
func parseRow(raw json.RawMessage, which string) (columns, error) {
	if isNull(raw) {
		return nil, nil
	}
	var row columns
	if err := json.Unmarshal(raw, &row); err != nil {
		return nil, fmt.Errorf("%s: %v", which, err)
	}
	return row, nil
}

// parseKey parses a record key, bare or wrapped. A missing or null key
// is a nil row: keys only cross-check the row, they are never needed.
func parseKey(key []byte) (columns, error) {
	if len(key) == 0 {
		return nil, nil
	}
	row, err := parseRow(key, "key")
	if err != nil {
		return nil, err
	}
	if payload, ok := row["payload"]; ok && len(row) == 2 && row["schema"] != nil {
		return parseRow(payload, "key payload")
	}
	return row, nil
}

// positionOf reads the binlog coordinates of the event. All three are
// required: a change that cannot be ordered cannot be applied safely.
func positionOf(src *sourceFields) (inventory.Position, error) {
	if src.File == nil || *src.File == "" {
		return inventory.Position{}, errors.New("no source.file: the change cannot be ordered")
	}
	offset, err := jsonUint(src.Pos, "source.pos", math.MaxUint64)
	if err != nil {
		return inventory.Position{}, err
	}
	row, err := jsonUint(src.Row, "source.row", math.MaxUint32)
	if err != nil {
		return inventory.Position{}, err
	}
	pos, err := inventory.ParsePosition(*src.File, offset, uint32(row))
	if err != nil {
		return inventory.Position{}, fmt.Errorf("source.file: %v", err)
	}
	return pos, nil
}

// commitTimeOf reads source.ts_ms. Missing, null or 0 (Debezium's
// value when it does not know) is the zero time.
func commitTimeOf(raw json.RawMessage) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	ms, err := jsonInt(raw, "source.ts_ms", 0, math.MaxInt64)
	if err != nil || ms == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// checkSnapshot accepts source.snapshot as Debezium writes it: a
// boolean (1.x), a string ("true", "false", "first", "last",
// "incremental"... in 2.x), or absent. The decoder does not need its value:
// snapshot reads are ordered by position like every other change.
func checkSnapshot(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	switch raw[0] {
	case '"', 't', 'f':
		return nil
	}
	return fmt.Errorf("source.snapshot: %s is neither a boolean nor a string", shortJSON(raw))
}
