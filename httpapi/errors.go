package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gintoki/gintoki/inventory"
)

// httpStatus maps domain error codes to HTTP statuses. This is the only
// place the HTTP transport decides a status for an error.
var httpStatus = map[inventory.Code]int{
	inventory.CodeInternal:    http.StatusInternalServerError,
	inventory.CodeInvalid:     http.StatusBadRequest,
	inventory.CodeNotFound:    http.StatusNotFound,
	inventory.CodeUnavailable: http.StatusServiceUnavailable,
	inventory.CodeTimeout:     http.StatusGatewayTimeout,
	inventory.CodeCanceled:    499, // client closed the request (nginx's convention)
}

// statusNames are the gRPC-style status names put in error bodies.
var statusNames = map[inventory.Code]string{
	inventory.CodeInternal:    "INTERNAL",
	inventory.CodeInvalid:     "INVALID_ARGUMENT",
	inventory.CodeNotFound:    "NOT_FOUND",
	inventory.CodeUnavailable: "UNAVAILABLE",
	inventory.CodeTimeout:     "DEADLINE_EXCEEDED",
	inventory.CodeCanceled:    "CANCELLED",
}

// writeError writes err as {"error":{"code":404,"status":"NOT_FOUND","message":"…"}}
// and returns the HTTP status written.
func writeError(w http.ResponseWriter, err error) int {
	code := inventory.ErrorCode(err)
	return writeErrorBody(w, httpStatus[code], statusNames[code], inventory.ErrorMessage(err))
}

// writeErrorBody writes an error body with HTTP status st, status name
// name and message msg (truncated), and returns st.
func writeErrorBody(w http.ResponseWriter, st int, name, msg string) int {
	b := make([]byte, 0, 128)
	b = append(b, `{"error":{"code":`...)
	b = strconv.AppendInt(b, int64(st), 10)
	b = append(b, `,"status":"`...)
	b = append(b, name...)
	b = append(b, `","message":`...)
	m, _ := json.Marshal(truncate(msg)) // a string always marshals
	b = append(b, m...)
	b = append(b, "}}"...)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	w.WriteHeader(st)
	_, _ = w.Write(b)
	return st
}

// maxMessage bounds an error message: parsers quote short prefixes of
// client input, and this is the backstop for any message that does not.
const maxMessage = 256

// truncate cuts msg to maxMessage bytes at a rune boundary, marking the cut.
func truncate(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}
