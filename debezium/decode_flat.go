package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
)

// FlattenedSettings are the settings of Debezium's ExtractNewRecordState
// transform (aliased unwrap) under which Gintoki can apply the events it
// flattens: the operation and the binlog position added to each row
// (without them a change cannot be ordered), and deletes kept as rows
// marked __deleted (without that, a delete leaves only a tombstone, which
// says nothing about when the row was deleted).
const FlattenedSettings = "transforms.unwrap.add.fields=op,table,file,pos,row,source.ts_ms " +
	"and transforms.unwrap.delete.tombstone.handling.mode=rewrite (Debezium before 2.5: transforms.unwrap.delete.handling.mode=rewrite)"

// The fields ExtractNewRecordState adds to a row for add.fields, with its
// default prefix "__".
const (
	flatOp      = "__op"
	flatTable   = "__table"
	flatFile    = "__file"
	flatPos     = "__pos"
	flatRow     = "__row"
	flatTsMs    = "__source_ts_ms"
	flatDeleted = "__deleted"
)

// errFlattenedNoOp is the error for a record that is no change event: a
// row flattened without its operation, or something else entirely.
var errFlattenedNoOp = errors.New("no op: neither a Debezium change event nor a row flattened by ExtractNewRecordState with its operation; " +
	"if the connector flattens events, set " + FlattenedSettings)

// parseFlattened turns a row flattened by ExtractNewRecordState into the
// envelope Debezium would have written: the row is the after image (the
// before image for a delete, op "d" or __deleted "true"), and the fields
// added by add.fields are the op and the source block.
func parseFlattened(raw json.RawMessage) (envelope, error) {
	var row columns
	if err := json.Unmarshal(raw, &row); err != nil {
		return envelope{}, fmt.Errorf("value: %v", err)
	}
	rawOp, ok := row[flatOp]
	if !ok {
		return envelope{}, errFlattenedNoOp
	}
	var op string
	if err := json.Unmarshal(rawOp, &op); err != nil {
		return envelope{}, fmt.Errorf("%s: %s is not a string", flatOp, shortJSON(rawOp))
	}
	if row[flatFile] == nil || row[flatPos] == nil || row[flatRow] == nil {
		return envelope{}, fmt.Errorf("flattened event (ExtractNewRecordState) without its source position (%s, %s, %s): "+
			"the change cannot be ordered; set %s", flatFile, flatPos, flatRow, FlattenedSettings)
	}
	src := &sourceFields{Pos: row[flatPos], Row: row[flatRow], TsMs: row[flatTsMs]}
	for field, dst := range map[string]**string{flatFile: &src.File, flatTable: &src.Table} {
		if v, ok := row[field]; ok && !isNull(v) {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return envelope{}, fmt.Errorf("%s: %s is not a string", field, shortJSON(v))
			}
			*dst = &s
		}
	}
	deleted := false
	if v, ok := row[flatDeleted]; ok {
		switch string(v) {
		case `"true"`, "true":
			deleted = true
		case `"false"`, "false":
		default:
			return envelope{}, fmt.Errorf("%s: %s is neither true nor false", flatDeleted, shortJSON(v))
		}
	}
	for _, f := range []string{flatOp, flatTable, flatFile, flatPos, flatRow, flatTsMs, flatDeleted} {
		delete(row, f)
	}
	image, err := json.Marshal(row)
	if err != nil {
		return envelope{}, fmt.Errorf("flattened row: %v", err)
	}
	env := envelope{Source: src, Op: &op, Before: json.RawMessage("null"), After: image}
	if op == "d" || deleted {
		if op != "d" {
			return envelope{}, fmt.Errorf("%s is true but %s is %q", flatDeleted, flatOp, op)
		}
		env.Before, env.After = image, json.RawMessage("null")
	}
	if op == "t" {
		env.Before, env.After = nil, nil
	}
	return env, nil
}
