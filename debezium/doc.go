// Package debezium translates between Kafka records in the format of
// Debezium's MySQL connector (JSON converter, with or without schemas) and
// the domain's change events.
//
// The relay's side is encode.go (relay.RowChange → Kafka records); the
// consumer's is decode.go (Decoder: Kafka records → inventory changes),
// with the envelope in decode_envelope.go, the per-table mapping in
// decode_tables.go, JSON scalars in decode_json.go and events flattened by
// ExtractNewRecordState in decode_flat.go.
//
// It imports the domain (inventory), the ports of the use cases it serves
// (app, relay) and the standard library; never another adapter.
package debezium
