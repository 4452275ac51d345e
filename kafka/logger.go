package kafka

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

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
