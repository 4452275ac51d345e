package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/kafka"
)

// startService loads the warehouse directory once the consumer is attached
// (so no warehouse change after the load can be missed), retrying while
// the database is unreachable.
func startService(ctx context.Context, svc *app.Service, consumer *kafka.Consumer, log *slog.Logger) error {
	if consumer != nil {
		select {
		case <-consumer.Attached():
		case <-ctx.Done():
			return nil
		}
	}
	for attempt := 0; ; attempt++ {
		err := svc.Start(ctx)
		if err == nil {
			return nil
		}
		if attempt%10 == 0 {
			log.Warn("cannot load the warehouse directory yet; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}
