package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

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
	st := httpStatus[code]
	b := make([]byte, 0, 128)
	b = append(b, `{"error":{"code":`...)
	b = strconv.AppendInt(b, int64(st), 10)
	b = append(b, `,"status":"`...)
	b = append(b, statusNames[code]...)
	b = append(b, `","message":`...)
	msg, _ := json.Marshal(inventory.ErrorMessage(err)) // a string always marshals
	b = append(b, msg...)
	b = append(b, "}}"...)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	w.WriteHeader(st)
	_, _ = w.Write(b)
	return st
}
