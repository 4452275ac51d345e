package phase

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// This file starts the stack's services that the phases share: the cached
// service (and the db-only one), warmed, and the bare baselines.

// startStack starts the cached and the db-only service and waits until
// both are ready.
func (b *Env) startStack(ctx context.Context) error {
	if err := stack.EnsureTopics(ctx, b.cfg.Brokers, b.cfg.TopicPrefix+"."+b.cfg.Database); err != nil {
		return err
	}
	var err error
	if b.cached, err = b.startService("gintoki serve", "bench-serve.log",
		b.serveArgs(b.addrs.HTTP, b.addrs.GRPC, "--db-dsn", b.cfg.DBDSN, "--topic-prefix", b.cfg.TopicPrefix, "--database", b.cfg.Database)...); err != nil {
		return err
	}
	if b.phases.Needs()&NeedDBOnly != 0 {
		if b.noCache, err = b.startService("gintoki serve --no-cache", "bench-serve-nocache.log",
			b.serveArgs(b.addrs.NoCacheHTTP, b.addrs.NoCacheGR, "--db-dsn", b.cfg.DBDSN, "--no-cache")...); err != nil {
			return err
		}
	}
	if err := stack.WaitHTTPReady(ctx, b.client, "http://"+b.addrs.HTTP+"/readyz", b.cached, 90*time.Second); err != nil {
		return err
	}
	if b.noCache != nil {
		if err := stack.WaitHTTPReady(ctx, b.client, "http://"+b.addrs.NoCacheHTTP+"/readyz", b.noCache, 90*time.Second); err != nil {
			return err
		}
	}
	b.logf("services ready")
	return nil
}

// warm loads every product into the cached service with batch requests
// (1,000 ids each), keeps the JSON bodies it receives and fetches the
// protobuf bodies by gRPC, then starts the bare baselines over them.
func (b *Env) warm(ctx context.Context) error {
	start := time.Now()
	jsonBodies := make(map[int64][]byte, b.cfg.Products)
	notFound, err := probe.BatchGetHTTP(ctx, b.client, "http://"+b.addrs.HTTP, b.cfg.Products, 1000, 2, func(ps []probe.Product) {
		for _, p := range ps {
			jsonBodies[p.ID] = p.Body
		}
	})
	if err != nil {
		return fmt.Errorf("warm the cache: %w", err)
	}
	if notFound > 0 {
		return fmt.Errorf("warm the cache: %d of ids 1..%d unknown: is the demo data seeded?", notFound, b.cfg.Products)
	}
	cc, err := grpc.NewClient(b.addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("fetch protobuf bodies: %w", err)
	}
	defer cc.Close()
	protoBodies := make(map[int64][]byte, b.cfg.Products)
	if err := probe.BatchGetGRPCRaw(ctx, cc, b.cfg.Products, 1000, func(ps []probe.Product) {
		for _, p := range ps {
			protoBodies[p.ID] = p.Body
		}
	}); err != nil {
		return err
	}
	b.logf("warmed %d products in %s", len(jsonBodies), time.Since(start).Round(time.Millisecond))

	if b.phases.Needs()&NeedBaselines == 0 {
		return nil
	}
	jsonPath, protoPath := filepath.Join(b.tmp, "json.bodies"), filepath.Join(b.tmp, "proto.bodies")
	if err := stack.WriteBodies(jsonPath, jsonBodies); err != nil {
		return err
	}
	if err := stack.WriteBodies(protoPath, protoBodies); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start baselines: %w", err)
	}
	if b.bareHTTP, err = b.startService("bare-http", "bench-bare-http.log", self, "bare-http", "--addr", b.addrs.BareHTTP, "--bodies", jsonPath); err != nil {
		return err
	}
	if b.bareGRPC, err = b.startService("bare-grpc", "bench-bare-grpc.log", self, "bare-grpc", "--addr", b.addrs.BareGRPC, "--bodies", protoPath); err != nil {
		return err
	}
	if err := stack.WaitHTTPReady(ctx, b.client, "http://"+b.addrs.BareHTTP+"/readyz", b.bareHTTP, 30*time.Second); err != nil {
		return err
	}
	return stack.WaitGRPCReady(ctx, b.addrs.BareGRPC, b.bareGRPC, 30*time.Second)
}
