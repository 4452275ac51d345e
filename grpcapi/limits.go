package grpcapi

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Limits bound what one client can hold on the gRPC server. Zero fields
// take grpc-go's defaults.
type Limits struct {
	// MaxConcurrentStreams bounds the calls in progress on one connection.
	MaxConcurrentStreams uint32
	// MaxRecvMsgBytes bounds a request message; larger ones fail with
	// ResourceExhausted before they are decoded.
	MaxRecvMsgBytes int
	// ConnectionTimeout bounds the connection setup (TLS and HTTP/2
	// handshakes): a client that opens a socket and stalls is dropped.
	ConnectionTimeout time.Duration
	// MaxConnectionIdle closes connections without calls for this long.
	MaxConnectionIdle time.Duration
	// KeepaliveTime is how long a connection may be silent before the
	// server pings it; KeepaliveTimeout how long it waits for the answer
	// before closing it (a vanished client does not hold its connection).
	KeepaliveTime, KeepaliveTimeout time.Duration
	// KeepaliveMinTime is the shortest interval between client pings the
	// server accepts; a client pinging more often is sent GOAWAY
	// (too_many_pings) and disconnected. Pings without calls in progress
	// are refused as well.
	KeepaliveMinTime time.Duration
}

// serverOptions returns the grpc.ServerOptions enforcing l.
func (l Limits) serverOptions() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if l.MaxConcurrentStreams > 0 {
		opts = append(opts, grpc.MaxConcurrentStreams(l.MaxConcurrentStreams))
	}
	if l.MaxRecvMsgBytes > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(l.MaxRecvMsgBytes))
	}
	if l.ConnectionTimeout > 0 {
		opts = append(opts, grpc.ConnectionTimeout(l.ConnectionTimeout))
	}
	opts = append(opts,
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: l.MaxConnectionIdle, Time: l.KeepaliveTime, Timeout: l.KeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: l.KeepaliveMinTime}),
	)
	return opts
}
