package binlog

import (
	"context"
	"log/slog"
)

// syncerLogHandler passes go-mysql's syncer logs on with its Info lines
// (connected, rotated, a dump of its configuration…) demoted to Debug: the
// source logs where each dump starts itself, and the relay's info log
// should not grow with every binlog rotation.
type syncerLogHandler struct{ next slog.Handler }

func (h syncerLogHandler) level(l slog.Level) slog.Level {
	if l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h syncerLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, h.level(l))
}

func (h syncerLogHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = h.level(r.Level)
	return h.next.Handle(ctx, r)
}

func (h syncerLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return syncerLogHandler{h.next.WithAttrs(attrs)}
}

func (h syncerLogHandler) WithGroup(name string) slog.Handler {
	return syncerLogHandler{h.next.WithGroup(name)}
}
