// Package grpcapi serves the inventory API over gRPC
// (gintoki.inventory.v1.InventoryService), with optional server reflection and the
// standard health service. Responses are pre-encoded protobuf bodies from
// the cache, written as they are: a hit costs a lookup and a copy, not a
// marshal.
//
// It imports the domain, app's ports, the generated protobuf code,
// requestid and the shared internal/grpcraw and internal/reqlatency; never
// another adapter (httpapi, mysql, kafka...).
package grpcapi

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// Field numbers of gintoki.inventory.v1 messages (see
// proto/gintoki/inventory/v1/inventory.proto; TestProtoRendererMatchesGenerated
// checks them against the generated code).
const (
	fieldProductID     = 1 // ProductInventory.product_id
	fieldWarehouses    = 2 // ProductInventory.warehouses
	fieldWarehouseCode = 1 // WarehouseStock.warehouse_code
	fieldQtySalable    = 2 // WarehouseStock.qty_salable
	fieldProducts      = 1 // BatchGetInventoryResponse.products
	fieldNotFound      = 2 // BatchGetInventoryResponse.not_found
)

// ProtoRenderer renders a gintoki.inventory.v1.ProductInventory message.
type ProtoRenderer struct{}

var _ app.Renderer = ProtoRenderer{}

// AppendInventory implements app.Renderer.
func (ProtoRenderer) AppendInventory(b []byte, inv *inventory.Inventory) []byte {
	b = protowire.AppendTag(b, fieldProductID, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(inv.Product))
	for _, w := range inv.Warehouses {
		size := protowire.SizeTag(fieldWarehouseCode) + protowire.SizeBytes(len(w.Code))
		if w.Qty != 0 {
			size += protowire.SizeTag(fieldQtySalable) + protowire.SizeVarint(uint64(int64(w.Qty)))
		}
		b = protowire.AppendTag(b, fieldWarehouses, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = protowire.AppendTag(b, fieldWarehouseCode, protowire.BytesType)
		b = protowire.AppendString(b, w.Code)
		if w.Qty != 0 { // proto3 omits zero scalars
			b = protowire.AppendTag(b, fieldQtySalable, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(int64(w.Qty)))
		}
	}
	return b
}

// appendBatch encodes a BatchGetInventoryResponse from pre-encoded
// ProductInventory bodies.
func appendBatch(b []byte, res app.BatchResult) []byte {
	for _, body := range res.Bodies {
		b = protowire.AppendTag(b, fieldProducts, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	if len(res.NotFound) > 0 {
		size := 0
		for _, id := range res.NotFound {
			size += protowire.SizeVarint(uint64(id))
		}
		b = protowire.AppendTag(b, fieldNotFound, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		for _, id := range res.NotFound {
			b = protowire.AppendVarint(b, uint64(id))
		}
	}
	return b
}
