package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopics creates the change topics of a service (prefix is
// <topic-prefix>.<database>) if they do not exist: the consumer waits for
// them, and the relay only creates them on the first change.
func EnsureTopics(ctx context.Context, brokers, prefix string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	topics := []string{prefix + ".warehouse_stock_item", prefix + ".warehouse"}
	resps, err := kadm.NewClient(cl).CreateTopics(ctx, 6, 1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v on %s: %w (is the broker running?)", topics, brokers, err)
	}
	for _, r := range resps {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}
