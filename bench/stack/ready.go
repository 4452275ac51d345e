package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	inventoryv1 "github.com/gintoki/gintoki/gen/inventory/v1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// WaitGRPCReady calls GetInventory until it succeeds.
func WaitGRPCReady(ctx context.Context, addr string, p *Proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := grpcProbe(ctx, addr)
		if err == nil {
			return nil
		}
		if perr := p.ExitErr(); perr != nil {
			return perr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", p.name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// grpcProbe asks addr for product 1.
func grpcProbe(ctx context.Context, addr string) error {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = inventoryv1.NewInventoryServiceClient(cc).GetInventory(ctx, &inventoryv1.GetInventoryRequest{ProductId: 1})
	return err
}

// WaitHTTPReady polls url until it answers 200, the process exits, or
// timeout passes.
func WaitHTTPReady(ctx context.Context, client *http.Client, url string, p *Proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no answer"
	for {
		if err := p.ExitErr(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if err := context.Cause(ctx); errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %s (last answer: %s); see %s", p.name, timeout, last, p.log)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
