package inventory

import (
	"context"
	"errors"
	"fmt"
)

// Code classifies an error for the transports, which map each Code to a
// status of their own in exactly one place.
type Code int

// Error codes.
const (
	CodeInternal    Code = iota // a bug or an unexpected failure
	CodeInvalid                 // the request is malformed
	CodeNotFound                // the product does not exist
	CodeUnavailable             // a dependency (the database) cannot be reached
	CodeTimeout                 // the caller's deadline passed
	CodeCanceled                // the caller went away
)

var codeNames = [...]string{"internal", "invalid", "not_found", "unavailable", "timeout", "canceled"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is an error with a Code and a message safe to show to a client.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs; may be nil
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and message whose cause is err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the Code of err: the Code of the first *Error in its
// chain, CodeTimeout or CodeCanceled for context errors, CodeInternal
// otherwise.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Message
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	}
	return "internal error"
}
