package grpcraw

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestCodec(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	want, err := proto.Marshal(wrapperspb.Int64(42))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("message written as it is", func(t *testing.T) {
		out, err := c.Marshal(Message(want))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Materialize(); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(Message) = %x, want %x", got, want)
		}
	})
	t.Run("other messages through proto", func(t *testing.T) {
		out, err := c.Marshal(wrapperspb.Int64(42))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Materialize(); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(proto) = %x, want %x", got, want)
		}
	})
	t.Run("read into a Message without decoding", func(t *testing.T) {
		var m Message
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(want)}, &m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m, want) {
			t.Fatalf("Unmarshal(*Message) = %x, want %x", m, want)
		}
	})
	t.Run("read into a proto message", func(t *testing.T) {
		var v wrapperspb.Int64Value
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(want)}, &v); err != nil {
			t.Fatal(err)
		}
		if v.GetValue() != 42 {
			t.Fatalf("Unmarshal(proto) = %d, want 42", v.GetValue())
		}
	})
	if c.Name() != "proto" {
		t.Errorf("Name() = %q, want proto", c.Name())
	}
}
