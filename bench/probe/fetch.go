package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"
	"github.com/gintoki/gintoki/internal/grpcraw"
)

// Product is one product's body as the service sent it.
type Product struct {
	ID   int64
	Body []byte
}

// BatchGetHTTP asks the service for every id in 1..n with POST
// /v1/inventory:batchGet, batch ids per request and par requests at a
// time (which also fills the cache), and calls each, from the calling
// goroutine, with the products of every answer. It returns the number of
// ids the service did not know.
func BatchGetHTTP(ctx context.Context, client *http.Client, baseURL string, n, batch, par int, each func([]Product)) (notFound int, err error) {
	type answer struct {
		products []Product
		notFound int
	}
	answers := make(chan answer)
	next := make(chan int) // first id of a batch
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for lo := 1; lo <= n; lo += batch {
			select {
			case next <- lo:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for range par {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for lo := range next {
				ps, nf, err := postBatch(gctx, client, baseURL, lo, min(lo+batch-1, n))
				if err != nil {
					return err
				}
				select {
				case answers <- answer{ps, nf}:
				case <-gctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	go func() { workers.Wait(); close(answers) }()
	for a := range answers {
		each(a.products)
		notFound += a.notFound
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return notFound, ctx.Err()
}

// postBatch asks for ids lo..hi.
func postBatch(ctx context.Context, client *http.Client, baseURL string, lo, hi int) ([]Product, int, error) {
	var body bytes.Buffer
	body.WriteString(`{"product_ids":[`)
	for id := lo; id <= hi; id++ {
		if id > lo {
			body.WriteByte(',')
		}
		body.WriteString(strconv.Itoa(id))
	}
	body.WriteString("]}")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/inventory:batchGet", &body)
	if err != nil {
		return nil, 0, fmt.Errorf("batch get %d..%d: %w", lo, hi, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("batch get %d..%d: %w", lo, hi, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("batch get %d..%d: %w", lo, hi, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("batch get %d..%d: %s: %.200s", lo, hi, resp.Status, b)
	}
	var r struct {
		Products []json.RawMessage `json:"products"`
		NotFound []int64           `json:"not_found"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, 0, fmt.Errorf("batch get %d..%d: %w", lo, hi, err)
	}
	ps := make([]Product, len(r.Products))
	for i, raw := range r.Products {
		id, err := jsonProductID(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("batch get %d..%d: %w", lo, hi, err)
		}
		ps[i] = Product{ID: id, Body: raw}
	}
	return ps, len(r.NotFound), nil
}

// jsonProductID reads product_id from a product body, quickly when it
// comes first as the service renders it.
func jsonProductID(body []byte) (int64, error) {
	if rest, ok := bytes.CutPrefix(body, []byte(`{"product_id":`)); ok {
		if i := bytes.IndexByte(rest, ','); i > 0 {
			if id, err := strconv.ParseInt(string(rest[:i]), 10, 64); err == nil {
				return id, nil
			}
		}
	}
	var p struct {
		ProductID int64 `json:"product_id"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ProductID == 0 {
		return 0, fmt.Errorf("no product_id in %.100q", body)
	}
	return p.ProductID, nil
}

// ProtoSizeOfJSON returns the size of the protobuf encoding
// (ProductInventory) of the same inventory as a JSON product body.
func ProtoSizeOfJSON(body []byte) (int, error) {
	var p struct {
		ProductID  int64 `json:"product_id"`
		Warehouses []struct {
			Code string `json:"warehouse_code"`
			Qty  int32  `json:"qty_salable"`
		} `json:"warehouses"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return 0, fmt.Errorf("decode product body: %w", err)
	}
	m := &inventoryv1.ProductInventory{ProductId: p.ProductID}
	for _, w := range p.Warehouses {
		m.Warehouses = append(m.Warehouses, &inventoryv1.WarehouseStock{WarehouseCode: w.Code, QtySalable: w.Qty})
	}
	return proto.Size(m), nil
}

// BatchGetGRPCRaw asks the service for ids 1..n with BatchGetInventory,
// batch ids per call, and calls each with every product's protobuf body,
// byte for byte as the service sent it.
func BatchGetGRPCRaw(ctx context.Context, cc *grpc.ClientConn, n, batch int, each func([]Product)) error {
	codec, err := grpcraw.NewCodec()
	if err != nil {
		return err
	}
	for lo := 1; lo <= n; lo += batch {
		req := &inventoryv1.BatchGetInventoryRequest{}
		for id := lo; id <= min(lo+batch-1, n); id++ {
			req.ProductIds = append(req.ProductIds, int64(id))
		}
		var raw grpcraw.Message
		if err := cc.Invoke(ctx, inventoryv1.InventoryService_BatchGetInventory_FullMethodName, req, &raw, grpc.ForceCodecV2(codec)); err != nil {
			return fmt.Errorf("gRPC batch get %d..: %w", lo, err)
		}
		ps, err := splitBatchResponse(raw)
		if err != nil {
			return fmt.Errorf("gRPC batch get %d..: %w", lo, err)
		}
		each(ps)
	}
	return nil
}

// splitBatchResponse returns the encoded ProductInventory messages of an
// encoded BatchGetInventoryResponse, with their product ids.
func splitBatchResponse(b []byte) ([]Product, error) {
	var ps []Product
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			body, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			id, err := protoProductID(body)
			if err != nil {
				return nil, err
			}
			ps = append(ps, Product{ID: id, Body: body})
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return ps, nil
}

// protoProductID reads field 1 (product_id) of an encoded ProductInventory.
func protoProductID(b []byte) (int64, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			return int64(v), nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return 0, errors.New("product body without product_id")
}

// get fetches url and fails unless the answer is 200.
func GetOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
