package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gintoki/gintoki/inventory"
)

type batchRequest struct {
	ProductIDs []int64 `json:"product_ids"`
}

// parseBatch reads a batch request body: exactly one JSON object
// {"product_ids":[…]} with no other member, then nothing but whitespace.
// Its errors are CodeInvalid and quote no more than a short prefix of the
// input.
func parseBatch(body io.Reader) ([]inventory.ProductID, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var req batchRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, inventory.Errorf(inventory.CodeInvalid, "request body is over %d bytes", tooBig.Limit)
		}
		return nil, inventory.Errorf(inventory.CodeInvalid, "malformed request body: %s", jsonProblem(err))
	}
	// Decode stops after the first value: anything but whitespace after it
	// ({"product_ids":[1]}} or a second object) makes the body malformed.
	rest, err := io.ReadAll(io.MultiReader(dec.Buffered(), body))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, inventory.Errorf(inventory.CodeInvalid, "request body is over %d bytes", tooBig.Limit)
		}
		return nil, inventory.Errorf(inventory.CodeInvalid, "malformed request body: %v", err)
	}
	if trail := bytes.TrimLeft(rest, " \t\r\n"); len(trail) > 0 {
		return nil, inventory.Errorf(inventory.CodeInvalid, "malformed request body: %d bytes after the JSON value, starting %s", len(trail), quotePrefix(string(trail)))
	}
	if req.ProductIDs == nil {
		return nil, inventory.Errorf(inventory.CodeInvalid, "product_ids is required")
	}
	ids := make([]inventory.ProductID, len(req.ProductIDs))
	for i, id := range req.ProductIDs {
		ids[i] = inventory.ProductID(id)
	}
	return ids, nil
}

// jsonProblem describes a decoding error without echoing client input at
// length: encoding/json quotes unknown field names whole.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "invalid JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return "field " + quotePrefix(typ.Field) + " must be " + typ.Type.String() + ", not a JSON " + typ.Value
		}
		return "the body must be a JSON object, not a JSON " + typ.Value
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	msg := err.Error()
	if len(msg) > 2*maxQuoted+40 {
		// json: unknown field "…" quotes the whole name.
		msg = msg[:2*maxQuoted+40] + "…"
	}
	return msg
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request, reqID string) int {
	ids, err := parseBatch(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return writeError(w, err)
	}
	res, err := s.reader.GetBatch(r.Context(), ids, s.cfg.Format)
	if err != nil {
		return s.fail(w, err, reqID)
	}
	res = res.PerPosition(ids)
	w.Header()["Content-Type"] = jsonContentType
	if res.Stale {
		w.Header()["X-Gintoki-Stale"] = staleValue
	}
	size := 32 + 21*len(res.NotFound)
	for _, b := range res.Bodies {
		size += len(b) + 1
	}
	_, _ = w.Write(appendBatch(make([]byte, 0, size), res))
	return http.StatusOK
}
