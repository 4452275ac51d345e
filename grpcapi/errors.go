package grpcapi

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gintoki/gintoki/inventory"
)

// grpcCodes maps domain error codes to gRPC codes. This is the only place
// the gRPC transport decides a status.
var grpcCodes = map[inventory.Code]codes.Code{
	inventory.CodeInternal:    codes.Internal,
	inventory.CodeInvalid:     codes.InvalidArgument,
	inventory.CodeNotFound:    codes.NotFound,
	inventory.CodeUnavailable: codes.Unavailable,
	inventory.CodeTimeout:     codes.DeadlineExceeded,
	inventory.CodeCanceled:    codes.Canceled,
}

// toStatus converts a use-case error to a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(grpcCodes[inventory.ErrorCode(err)], inventory.ErrorMessage(err))
}
