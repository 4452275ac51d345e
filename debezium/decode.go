// Package debezium translates between Kafka records in the format of
// Debezium's MySQL connector (JSON converter, with or without schemas) and
// the domain's change events.
package debezium

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// Errors wrapped by every error Decode returns, so that callers can count
// rejected records by reason.
var (
	// ErrMalformed: the record is not a change event that can be applied
	// safely (bad JSON, unknown op, no position, a missing, ill-typed or
	// out-of-range column, a key that contradicts the row...).
	ErrMalformed = errors.New("debezium: malformed change event")
	// ErrUnknownTable: a well-formed event for a table Gintoki does not
	// track. It does not wrap ErrMalformed: such records are expected when
	// a connector captures more tables than Gintoki needs.
	ErrUnknownTable = errors.New("debezium: unknown table")
)

// The source tables' names, as in schema/schema.sql.
const (
	decodeDefaultStockTable     = "warehouse_stock_item"
	decodeDefaultWarehouseTable = "warehouse"
)

// Decoder turns Kafka records written by Debezium's MySQL connector, or by
// Gintoki's relay, into domain changes. The zero Decoder uses the table
// names of schema/schema.sql. A Decoder is a value without state: it is
// safe for concurrent use.
type Decoder struct {
	StockTable     string // table of stock rows; "warehouse_stock_item" if empty
	WarehouseTable string // table of warehouses; "warehouse" if empty
}

// Decode decodes one record: its topic, key and value as they came from
// Kafka. It returns an inventory.StockChange, an inventory.WarehouseChange
// or an inventory.Truncate, or for a record of a heartbeat topic
// (__debezium-heartbeat.<prefix>) an inventory.Heartbeat.
//
// A tombstone (an empty value, a JSON null, or a schema wrapper with a null
// payload) returns (nil, nil): it only lets Kafka compact the topic, the
// delete event before it carried the change.
//
// Key and value may each be wrapped as {"schema": …, "payload": …} (the
// JsonConverter with schemas.enable=true) or bare. The table is the
// event's source.table, or the last dot-separated segment of the topic when
// the event names none. When the key names a primary-key column, it must
// agree with the row.
//
// Events flattened by Debezium's ExtractNewRecordState transform are
// accepted when they carry the operation and the source position (see
// decodeFlattened); without them they are refused with an error that
// names the settings to add.
//
// Every error wraps ErrUnknownTable or ErrMalformed. An error about a
// record of a tracked table is also an *app.UnapplicableError, saying
// which product the lost change could have touched, when that is known, or
// that it was a warehouse record.
// Decode never panics.
func (d Decoder) Decode(topic string, key, value []byte) (inventory.Change, error) {
	if strings.HasPrefix(topic, HeartbeatTopicPrefix+".") {
		return decodeHeartbeat(value)
	}
	c, kind, op, err := d.decode(topic, key, value)
	switch {
	case err != nil && kind == inventory.TableStock:
		product, known := stockProductOf(op, key, value)
		return nil, &app.UnapplicableError{Product: product, KeyKnown: known, Err: err}
	case err != nil && kind == inventory.TableWarehouse:
		return nil, &app.UnapplicableError{Warehouse: true, Err: err}
	}
	return c, err
}

// decode decodes a change record. With its error it returns the table
// the record belongs to when that is known (from source.table, or from
// the topic when the value cannot be read), and its op if it has one.
func (d Decoder) decode(topic string, key, value []byte) (c inventory.Change, kind inventory.Table, op string, err error) {
	env, ok, err := decodeEnvelopeOf(value)
	if err != nil {
		return nil, d.tableKind(topic[strings.LastIndexByte(topic, '.')+1:]), "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !ok {
		return nil, 0, "", nil
	}
	table := ""
	if env.Source != nil && env.Source.Table != nil {
		table = *env.Source.Table
	}
	if table == "" {
		table = topic[strings.LastIndexByte(topic, '.')+1:]
	}
	kind = d.tableKind(table)
	if env.Op == nil {
		return nil, kind, "", fmt.Errorf("%w: no op", ErrMalformed)
	}
	op = *env.Op
	switch op {
	case "c", "u", "d", "r", "t":
	default:
		return nil, kind, op, fmt.Errorf("%w: unknown op %s", ErrMalformed, decodeQuote(op))
	}
	if kind == 0 {
		return nil, 0, op, fmt.Errorf("%w %s (topic %s)", ErrUnknownTable, decodeQuote(table), decodeQuote(topic))
	}
	c, err = decodeChange(kind, op, env, key)
	if err != nil {
		return nil, kind, op, fmt.Errorf("%w: %s op %s: %v", ErrMalformed, table, op, err)
	}
	return c, kind, op, nil
}

// tableKind returns the kind of a tracked table, or 0.
func (d Decoder) tableKind(table string) inventory.Table {
	switch table {
	case d.stockTable():
		return inventory.TableStock
	case d.warehouseTable():
		return inventory.TableWarehouse
	}
	return 0
}

// stockProductOf returns the product a stock record names, if it names
// exactly one: every product_id in its key and row images must be a valid
// id, and the same. A truncate names every product.
func stockProductOf(op string, key, value []byte) (inventory.ProductID, bool) {
	if op == "t" {
		return 0, false
	}
	var rows []decodeRow
	k, err := decodeKeyOf(key)
	if err != nil {
		return 0, false
	}
	rows = append(rows, k)
	if env, ok, err := decodeEnvelopeOf(value); err == nil && ok {
		for _, img := range []json.RawMessage{env.Before, env.After} {
			r, err := decodeRowOf(img, "row")
			if err != nil {
				return 0, false
			}
			rows = append(rows, r)
		}
	}
	var id int64
	for _, r := range rows {
		raw, ok := r["product_id"]
		if !ok {
			continue
		}
		n, err := decodeInt(raw, "product_id", 1, math.MaxInt64)
		if err != nil || (id != 0 && n != id) {
			return 0, false
		}
		id = n
	}
	return inventory.ProductID(id), id != 0
}

func (d Decoder) stockTable() string {
	if d.StockTable == "" {
		return decodeDefaultStockTable
	}
	return d.StockTable
}

func (d Decoder) warehouseTable() string {
	if d.WarehouseTable == "" {
		return decodeDefaultWarehouseTable
	}
	return d.WarehouseTable
}

// decodeEnvelope is the part of a change event value the decoder reads.
// Raw fields are parsed by hand so that type and range errors name the
// field; fields it does not need (schema, transaction, ts_us...) are
// skipped, so that additions in newer Debezium versions do no harm.
type decodeEnvelope struct {
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	Source *decodeSource   `json:"source"`
	Op     *string         `json:"op"`
}

// decodeSource is the part of the source block the decoder reads.
type decodeSource struct {
	Table    *string         `json:"table"`
	File     *string         `json:"file"`
	Pos      json.RawMessage `json:"pos"`
	Row      json.RawMessage `json:"row"`
	TsMs     json.RawMessage `json:"ts_ms"`
	Snapshot json.RawMessage `json:"snapshot"`
}

// decodeRecord is either a bare envelope or the JsonConverter's wrapper
// around one; a single pass reads both shapes.
type decodeRecord struct {
	decodeEnvelope
	Payload json.RawMessage `json:"payload"`
}

// decodeEnvelopeOf parses a record value. ok is false for a tombstone. A
// value that is not an envelope is read as a row flattened by
// ExtractNewRecordState.
func decodeEnvelopeOf(value []byte) (env decodeEnvelope, ok bool, err error) {
	if len(value) == 0 || decodeIsNull(bytes.TrimSpace(value)) {
		return env, false, nil
	}
	var rec decodeRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return env, false, fmt.Errorf("value: %v", err)
	}
	body := json.RawMessage(value)
	env = rec.decodeEnvelope
	if rec.Payload != nil {
		if decodeIsNull(rec.Payload) {
			return env, false, nil
		}
		body, env = rec.Payload, decodeEnvelope{}
		if err := json.Unmarshal(rec.Payload, &env); err != nil {
			return env, false, fmt.Errorf("value payload: %v", err)
		}
	}
	if env.Op == nil && env.Source == nil && env.Before == nil && env.After == nil {
		env, err = decodeFlattened(body)
		return env, err == nil, err
	}
	return env, true, nil
}

// decodeHeartbeat decodes a heartbeat record's value, {"ts_ms": N} bare or
// in the JsonConverter's wrapper, into an inventory.Heartbeat.
func decodeHeartbeat(value []byte) (inventory.Change, error) {
	if len(value) == 0 || decodeIsNull(bytes.TrimSpace(value)) {
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

// decodeRow is one row image (before or after, or a key): column name to
// raw JSON value.
type decodeRow map[string]json.RawMessage

// decodeRowOf parses a row image; a missing or null image is a nil row.
func decodeRowOf(raw json.RawMessage, which string) (decodeRow, error) {
	if decodeIsNull(raw) {
		return nil, nil
	}
	var row decodeRow
	if err := json.Unmarshal(raw, &row); err != nil {
		return nil, fmt.Errorf("%s: %v", which, err)
	}
	return row, nil
}

// decodeKeyOf parses a record key, bare or wrapped. A missing or null key
// is a nil row: keys only cross-check the row, they are never needed.
func decodeKeyOf(key []byte) (decodeRow, error) {
	if len(key) == 0 {
		return nil, nil
	}
	row, err := decodeRowOf(key, "key")
	if err != nil {
		return nil, err
	}
	if payload, ok := row["payload"]; ok && len(row) == 2 && row["schema"] != nil {
		return decodeRowOf(payload, "key payload")
	}
	return row, nil
}

// decodeChange decodes an event of a known table and op; its errors are
// wrapped in ErrMalformed by Decode.
func decodeChange(kind inventory.Table, op string, env decodeEnvelope, key []byte) (inventory.Change, error) {
	if env.Source == nil {
		return nil, errors.New("no source: the change cannot be ordered")
	}
	pos, err := decodePosition(env.Source)
	if err != nil {
		return nil, err
	}
	commit, err := decodeCommitTime(env.Source.TsMs)
	if err != nil {
		return nil, err
	}
	if err := decodeCheckSnapshot(env.Source.Snapshot); err != nil {
		return nil, err
	}
	if op == "t" {
		return inventory.Truncate{Table: kind, Pos: pos, Commit: commit}, nil
	}

	before, err := decodeRowOf(env.Before, "before")
	if err != nil {
		return nil, err
	}
	after, err := decodeRowOf(env.After, "after")
	if err != nil {
		return nil, err
	}
	keyRow, err := decodeKeyOf(key)
	if err != nil {
		return nil, err
	}
	// The row the change leaves behind, or for a delete the row it removes.
	row, which, deleted := after, "after", false
	if op == "d" {
		row, which, deleted = before, "before", true
	}
	if row == nil {
		return nil, fmt.Errorf("no %s row", which)
	}

	switch kind {
	case inventory.TableStock:
		c, err := decodeStock(row, which, deleted)
		if err != nil {
			return nil, err
		}
		if err := decodeSameStockKey(keyRow, "key", c); err != nil {
			return nil, err
		}
		if op == "u" {
			// Debezium and the relay turn a primary-key change into a delete
			// and a create. An update whose before image has another key
			// would otherwise leave the old row behind, unseen.
			if err := decodeSameStockKey(before, "before", c); err != nil {
				return nil, err
			}
		}
		c.Pos, c.Commit = pos, commit
		return c, nil
	default:
		c, err := decodeWarehouse(row, which, deleted)
		if err != nil {
			return nil, err
		}
		if err := decodeSameKey(keyRow, "key", "id", int64(c.Warehouse.ID)); err != nil {
			return nil, err
		}
		if op == "u" {
			if err := decodeSameKey(before, "before", "id", int64(c.Warehouse.ID)); err != nil {
				return nil, err
			}
		}
		c.Pos, c.Commit = pos, commit
		return c, nil
	}
}
