// Package schema holds the source tables' definition (schema.sql), for the
// programs that create a database of their own: the local stack's script
// reads the file, Go programs embed it. It imports nothing.
package schema

import _ "embed"

// SQL is schema.sql: the CREATE TABLE statements of warehouse and
// warehouse_stock_item.
//
//go:embed schema.sql
var SQL string
