package httpapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// maxErrorLen bounds the error messages of the parsers: they quote short
// prefixes of the input, whatever its length.
const maxErrorLen = 200

// FuzzProductID feeds the path-segment parser and the /cache query parser.
// An id is accepted only if it is a positive decimal int64, and no error
// grows with the input.
func FuzzProductID(f *testing.F) {
	for _, s := range []string{"1", "42", "9223372036854775807", "9223372036854775808", "0", "-1", "+7", "007", " 1", "1e3", "0x10", "", "ü", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseProductID(s)
		n, perr := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			if inventory.ErrorCode(err) != inventory.CodeInvalid || len(inventory.ErrorMessage(err)) > maxErrorLen {
				t.Fatalf("parseProductID(%q): error %v (%d bytes)", s, err, len(inventory.ErrorMessage(err)))
			}
			if perr == nil && n > 0 {
				t.Fatalf("parseProductID(%q) refused the valid id %d: %v", s, n, err)
			}
		case perr != nil || int64(id) != n || id <= 0:
			t.Fatalf("parseProductID(%q) = %d, but ParseInt gives %d, %v", s, id, n, perr)
		}

		for _, q := range []string{s, "product_id=" + s} {
			id, err := queryProductID(q)
			if err != nil {
				if inventory.ErrorCode(err) != inventory.CodeInvalid || len(inventory.ErrorMessage(err)) > maxErrorLen {
					t.Fatalf("queryProductID(%q): error %v (%d bytes)", q, err, len(inventory.ErrorMessage(err)))
				}
				continue
			}
			if id <= 0 {
				t.Fatalf("queryProductID(%q) = %d", q, id)
			}
		}
	})
}

// FuzzParseBatch feeds the batch body parser. It accepts a body only if
// the standard decoder reads the same ids from it as one JSON value, and
// no error grows with the input.
func FuzzParseBatch(f *testing.F) {
	for _, s := range []string{
		`{"product_ids":[1,2,3]}`, ` {"product_ids":[7,7,7]} `, `{"product_ids":[]}`, `{}`, `null`, `[]`,
		`{"product_ids":[1]}}`, `{"product_ids":[1]}]`, `{"product_ids":[1]}{"product_ids":[2]}`,
		`{"product_ids":[1],"x":1}`, `{"product_ids":["1"]}`, `{"product_ids":[1.5]}`, `{"product_ids":[1e2]}`,
		`{"product_ids":[9223372036854775808]}`, `{"product_ids":null}`, `{"PRODUCT_IDS":[1]}`, `{"product_ids":[1]`,
		"{\"product_ids\":[1]}\x00", `{"product_ids":[1],"product_ids":[2]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := parseBatch(bytes.NewReader(body))
		var want batchRequest
		werr := json.Unmarshal(body, &want) // also refuses trailing data
		if err != nil {
			if inventory.ErrorCode(err) != inventory.CodeInvalid || len(inventory.ErrorMessage(err)) > maxErrorLen {
				t.Fatalf("parseBatch(%q): error %v (%d bytes)", body, err, len(inventory.ErrorMessage(err)))
			}
			return
		}
		if werr != nil {
			t.Fatalf("parseBatch(%q) accepted what encoding/json refuses: %v", body, werr)
		}
		got := make([]int64, len(ids))
		for i, id := range ids {
			got[i] = int64(id)
		}
		if !slices.Equal(got, want.ProductIDs) {
			t.Fatalf("parseBatch(%q) = %v, encoding/json reads %v", body, got, want.ProductIDs)
		}
	})
}
