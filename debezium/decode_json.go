// JSON scalars of change events: integers read exactly and within range,
// null, and short quotes of hostile input for error messages.

package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// intColumn reads an integer column of row within [lo, hi].
func intColumn(row columns, which, col string, lo, hi int64) (int64, error) {
	raw, ok := row[col]
	if !ok {
		return 0, fmt.Errorf("%s.%s missing", which, col)
	}
	return jsonInt(raw, which+"."+col, lo, hi)
}

// jsonInt reads a JSON integer within [lo, hi]. Strings, fractions and
// exponents are refused: Debezium writes int16/32/64 as plain integers,
// and parsing as float would lose precision above 2^53.
func jsonInt(raw json.RawMessage, field string, lo, hi int64) (int64, error) {
	if isNull(raw) {
		return 0, fmt.Errorf("%s is null or missing", field)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s: %s is out of range [%d, %d]", field, shortJSON(raw), lo, hi)
	case err != nil:
		return 0, fmt.Errorf("%s: %s is not an integer", field, shortJSON(raw))
	case n < lo || n > hi:
		return 0, fmt.Errorf("%s: %d is out of range [%d, %d]", field, n, lo, hi)
	}
	return n, nil
}

// jsonUint reads a non-negative JSON integer no greater than hi.
func jsonUint(raw json.RawMessage, field string, hi uint64) (uint64, error) {
	if isNull(raw) {
		return 0, fmt.Errorf("%s is null or missing: the change cannot be ordered", field)
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && n > hi:
		return 0, fmt.Errorf("%s: %s is out of range [0, %d]", field, shortJSON(raw), hi)
	case err != nil:
		return 0, fmt.Errorf("%s: %s is not a non-negative integer", field, shortJSON(raw))
	}
	return n, nil
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// shortJSON quotes at most 40 bytes of raw, so that an error about a
// hostile record stays small.
func shortJSON(raw []byte) string {
	const limit = 40
	if len(raw) > limit {
		return strconv.Quote(string(raw[:limit])) + "..."
	}
	return string(raw)
}

// shortQuote quotes s, shortened like shortJSON.
func shortQuote(s string) string {
	const limit = 40
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
