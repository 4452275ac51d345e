package httpapi

import (
	"errors"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/gintoki/gintoki/inventory"
)

// maxQuoted is the longest prefix of client input an error message quotes:
// a 900 KiB id must not come back as a 900 KiB error.
const maxQuoted = 32

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
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, inventory.Errorf(inventory.CodeInvalid, "product id %s is out of range", quotePrefix(s))
	case err != nil:
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
