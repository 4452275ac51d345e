// Package inventory is Gintoki's domain: products, warehouses, the stock a
// product holds in each warehouse, the changes the source database streams
// out, and the rule for applying a change to what a node knows.
//
// It imports nothing but the standard library. Everything that talks to the
// outside world (SQL, Kafka, gRPC, HTTP, the cache library) lives in an
// adapter package and translates to and from these types.
package inventory
