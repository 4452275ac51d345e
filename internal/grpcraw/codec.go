// Package grpcraw is a gRPC codec for protobuf bodies kept in their encoded
// form: a server writes a pre-encoded response as it is (the service's
// cache holds bodies encoded once per fill or change), and a client can
// read a response without decoding it. The service's gRPC transport and
// the benchmark's bare server and body fetcher use it.
//
// It imports gRPC and the standard library only: no project package, so
// every transport and command may use it without breaking the dependency
// rules (internal/archtest).
package grpcraw

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the proto codec Codec delegates to
	"google.golang.org/grpc/mem"
)

// Message is a protobuf message in its encoded form.
type Message []byte

// Codec writes a Message as it is, reads a response into a *Message
// without decoding it, and hands every other message to the standard proto
// codec. Its name is "proto", so peers see the ordinary content type.
// Install it per server (grpc.ForceServerCodecV2) or per call
// (grpc.ForceCodecV2), never globally.
type Codec struct {
	proto encoding.CodecV2
}

// NewCodec returns a Codec over the registered proto codec.
func NewCodec() (Codec, error) {
	c := encoding.GetCodecV2("proto")
	if c == nil {
		return Codec{}, fmt.Errorf("grpc proto codec is not registered")
	}
	return Codec{proto: c}, nil
}

// Marshal returns a Message's bytes as they are, and encodes any other
// message with the proto codec.
func (c Codec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(Message); ok {
		return mem.BufferSlice{mem.SliceBuffer(m)}, nil
	}
	return c.proto.Marshal(v)
}

// Unmarshal copies data into a *Message, and decodes into any other
// message with the proto codec.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*Message); ok {
		*m = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// Name is "proto": the codec speaks the standard wire format.
func (Codec) Name() string { return "proto" }
