package debezium

import (
	"errors"
	"fmt"
	"strings"

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
	defaultStockTable     = "warehouse_stock_item"
	defaultWarehouseTable = "warehouse"
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
// parseFlattened); without them they are refused with an error that
// names the settings to add.
//
// Every error wraps ErrUnknownTable or ErrMalformed. An error about a
// record of a tracked table is also an *app.UnapplicableError, saying
// which product the lost change could have touched, when that is known, or
// that it was a warehouse record.
// Decode never panics.
func (d Decoder) Decode(topic string, key, value []byte) (inventory.Change, error) {
	if strings.HasPrefix(topic, HeartbeatTopicPrefix+".") {
		return parseHeartbeat(value)
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
	env, ok, err := parseEnvelope(value)
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
		return nil, kind, op, fmt.Errorf("%w: unknown op %s", ErrMalformed, shortQuote(op))
	}
	if kind == 0 {
		return nil, 0, op, fmt.Errorf("%w %s (topic %s)", ErrUnknownTable, shortQuote(table), shortQuote(topic))
	}
	c, err = changeOf(kind, op, env, key)
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

func (d Decoder) stockTable() string {
	if d.StockTable == "" {
		return defaultStockTable
	}
	return d.StockTable
}

func (d Decoder) warehouseTable() string {
	if d.WarehouseTable == "" {
		return defaultWarehouseTable
	}
	return d.WarehouseTable
}
