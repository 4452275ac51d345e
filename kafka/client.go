package kafka

import (
	"context"
	"log/slog"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientOptions returns the options every franz-go client of the package
// (publisher, consumer, checkpoint store) starts from: the seed brokers,
// the TLS and SASL settings of sec (read now: see
// SecurityConfig.ClientOptions), and log, or nothing if it is nil, for
// franz-go's warnings and errors. It also returns the logger to use, never
// nil. The slice is clipped: appending to it never writes into another
// client's options.
func clientOptions(brokers []string, sec SecurityConfig, log *slog.Logger) ([]kgo.Opt, *slog.Logger, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	security, err := sec.ClientOptions()
	if err != nil {
		return nil, nil, err
	}
	opts := append(security, kgo.SeedBrokers(brokers...), kgo.WithLogger(clientLogger{log}))
	return slices.Clip(opts), log, nil
}

// producerOptions are what a producing client adds to clientOptions: every
// record acknowledged by all in-sync replicas (also what idempotence,
// franz-go's default, requires), and no linger: a change should leave at
// once. Records still batch while the previous produce request to a broker
// is in flight.
func producerOptions() []kgo.Opt {
	return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0)}
}

// clientLogger passes franz-go's warnings and errors to slog; its info
// and debug lines are too chatty for a log. Every franz-go client of the
// package (publisher, consumer, checkpoint store) logs through it.
type clientLogger struct{ log *slog.Logger }

// Level implements kgo.Logger: warnings and errors only.
func (l clientLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

// Log implements kgo.Logger.
func (l clientLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	l.log.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}
