package httpapi

import (
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/gintoki/gintoki/inventory"
)

// maxQuoted is the longest prefix of client input an error message quotes:
// a 900 KiB id must not come back as a 900 KiB error.
const maxQuoted = 32

// maxIDLen is the longest text that can be a product id: 19 digits and a
// sign (leading zeros aside, which nobody sends).
const maxIDLen = 20

// quotePrefix quotes at most maxQuoted bytes of s (cut at a rune boundary),
// marking a cut with "…".
func quotePrefix(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// parseProductID parses a product id from a path segment or query value.
// Its errors are CodeInvalid and quote a short prefix of s only.
func parseProductID(s string) (inventory.ProductID, error) {
	if len(s) > maxIDLen {
		return 0, inventory.Errorf(inventory.CodeInvalid, "product id %s is not an integer (%d bytes)", quotePrefix(s), len(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, inventory.Errorf(inventory.CodeInvalid, "product id %s is not an integer", quotePrefix(s))
	}
	id := inventory.ProductID(n)
	return id, id.Validate()
}

// queryProductID parses GET /cache's query: exactly one product_id
// parameter holding a product id.
func queryProductID(rawQuery string) (inventory.ProductID, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return 0, inventory.Errorf(inventory.CodeInvalid, "malformed query string near %s", quotePrefix(rawQuery))
	}
	if len(q["product_id"]) != 1 {
		return 0, inventory.Errorf(inventory.CodeInvalid, "exactly one product_id query parameter is required")
	}
	return parseProductID(q["product_id"][0])
}
