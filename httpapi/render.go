package httpapi

import (
	"encoding/json"
	"strconv"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// JSONRenderer renders one product's inventory as the API's JSON body:
//
//	{"product_id":1,"warehouses":[{"warehouse_code":"WH-AMS","qty_salable":5}]}
type JSONRenderer struct{}

var _ app.Renderer = JSONRenderer{}

// AppendInventory implements app.Renderer.
func (JSONRenderer) AppendInventory(b []byte, inv *inventory.Inventory) []byte {
	b = append(b, `{"product_id":`...)
	b = strconv.AppendInt(b, int64(inv.Product), 10)
	b = append(b, `,"warehouses":[`...)
	for i, w := range inv.Warehouses {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"warehouse_code":`...)
		b = appendJSONString(b, w.Code)
		b = append(b, `,"qty_salable":`...)
		b = strconv.AppendInt(b, int64(w.Qty), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendJSONString appends s as a JSON string, exactly as encoding/json
// writes it: a code of plain characters (the usual case) is copied as it
// is, any other goes through json.Marshal (a warm start renders a million
// entries; Marshal's reflection and allocation were a tenth of its time).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			code, _ := json.Marshal(s) // a string always marshals
			return append(b, code...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendBatch encodes a batch response from pre-encoded product bodies.
func appendBatch(b []byte, res app.BatchResult) []byte {
	b = append(b, `{"products":[`...)
	for i, body := range res.Bodies {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, body...)
	}
	b = append(b, `],"not_found":[`...)
	for i, id := range res.NotFound {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return append(b, "]}"...)
}
