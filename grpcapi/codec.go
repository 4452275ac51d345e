package grpcapi

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the proto codec we delegate to
	"google.golang.org/grpc/mem"
)

// rawMessage is a response body already encoded as protobuf.
type rawMessage []byte

// rawCodec is the server's codec: it writes rawMessage bodies as they are
// and hands every other message to the standard proto codec. It is
// installed per server (grpc.ForceServerCodecV2), not globally.
type rawCodec struct {
	proto encoding.CodecV2
}

func newRawCodec() (rawCodec, error) {
	c := encoding.GetCodecV2("proto")
	if c == nil {
		return rawCodec{}, fmt.Errorf("grpc proto codec is not registered")
	}
	return rawCodec{proto: c}, nil
}

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if raw, ok := v.(rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(raw)}, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c rawCodec) Name() string { return "proto" }
