package main

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the proto codec we delegate to
	"google.golang.org/grpc/mem"
)

// rawBody is a protobuf message kept in its encoded form: the bare gRPC
// server sends pre-encoded bodies as they are, and the body fetcher keeps
// the service's responses byte for byte.
type rawBody []byte

// rawCodec writes a rawBody as it is, reads a response into a *rawBody
// without decoding it, and hands every other message to the standard proto
// codec. It is installed per server or per call, never globally.
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
	if b, ok := v.(rawBody); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if b, ok := v.(*rawBody); ok {
		*b = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

func (c rawCodec) Name() string { return "proto" }
