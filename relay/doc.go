// Package relay is the use case that moves committed row changes from the
// source database's change stream to a message broker, at least once: it
// reads whole transactions, encodes each RowChange as BrokerRecords,
// publishes them, and persists the stream's BinlogPosition after a
// transaction only once the broker has acknowledged every record up to and
// including it. With a Lock, only the relay that holds it publishes, and it
// checks its lease before every publish (leader.go).
//
// Where things are: the ports it needs (Source, Stream, Encoder, Publisher,
// Checkpoint) are in relay.go; the values that cross them in change.go; the
// read → encode → publish loop in pipeline.go; the order in which positions
// become safe to save in tracker.go.
//
// It knows nothing of binlogs, Debezium or Kafka: each is an adapter
// (packages binlog, debezium and kafka) that satisfies one of its ports. It
// imports the standard library only (internal/archtest also allows the
// domain, package inventory), never an adapter, a transport or a client
// library.
package relay
