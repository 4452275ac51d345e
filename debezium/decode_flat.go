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

// decodeFlattened turns a row flattened by ExtractNewRecordState into the
// envelope Debezium would have written: the row is the after image (the
// before image for a delete, op "d" or __deleted "true"), and the fields
// added by add.fields are the op and the source block.
func decodeFlattened(raw json.RawMessage) (decodeEnvelope, error) {
	var row decodeRow
	if err := json.Unmarshal(raw, &row); err != nil {
		return decodeEnvelope{}, fmt.Errorf("value: %v", err)
	}
	rawOp, ok := row[flatOp]
	if !ok {
		return decodeEnvelope{}, errFlattenedNoOp
	}
	var op string
	if err := json.Unmarshal(rawOp, &op); err != nil {
		return decodeEnvelope{}, fmt.Errorf("%s: %s is not a string", flatOp, decodeShort(rawOp))
	}
	if row[flatFile] == nil || row[flatPos] == nil || row[flatRow] == nil {
		return decodeEnvelope{}, fmt.Errorf("flattened event (ExtractNewRecordState) without its source position (%s, %s, %s): "+
			"the change cannot be ordered; set %s", flatFile, flatPos, flatRow, FlattenedSettings)
	}
	src := &decodeSource{Pos: row[flatPos], Row: row[flatRow], TsMs: row[flatTsMs]}
	for field, dst := range map[string]**string{flatFile: &src.File, flatTable: &src.Table} {
		if v, ok := row[field]; ok && !decodeIsNull(v) {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return decodeEnvelope{}, fmt.Errorf("%s: %s is not a string", field, decodeShort(v))
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
			return decodeEnvelope{}, fmt.Errorf("%s: %s is neither true nor false", flatDeleted, decodeShort(v))
		}
	}
	for _, f := range []string{flatOp, flatTable, flatFile, flatPos, flatRow, flatTsMs, flatDeleted} {
		delete(row, f)
	}
	image, err := json.Marshal(row)
	if err != nil {
		return decodeEnvelope{}, fmt.Errorf("flattened row: %v", err)
	}
	env := decodeEnvelope{Source: src, Op: &op, Before: json.RawMessage("null"), After: image}
	if op == "d" || deleted {
		if op != "d" {
			return decodeEnvelope{}, fmt.Errorf("%s is true but %s is %q", flatDeleted, flatOp, op)
		}
		env.Before, env.After = image, json.RawMessage("null")
	}
	if op == "t" {
		env.Before, env.After = nil, nil
	}
	return env, nil
}
