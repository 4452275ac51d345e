package proctest

import (
	"fmt"
	"regexp"
	"testing"
)

func TestWaitLogged(t *testing.T) {
	tests := []struct {
		name string
		line string
		re   string
		want []string
	}{
		{"serve", `{"time":"x","level":"INFO","msg":"serving","http":"127.0.0.1:1","grpc":"127.0.0.1:2","tls":false}`, "serve", []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{"relay", `{"level":"INFO","msg":"relay metrics","addr":"127.0.0.1:3"}`, "relay", []string{"127.0.0.1:3"}},
		{"dev broker", `time=x level=INFO msg="dev broker listening" addr=127.0.0.1:4 data_dir=(memory)`, "broker", []string{"127.0.0.1:4"}},
	}
	res := map[string]*regexp.Regexp{"serve": Serving, "relay": RelayMetrics, "broker": DevBroker}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Buffer
			fmt.Fprintln(&b, `{"msg":"starting"}`)
			fmt.Fprintln(&b, tc.line)
			got := WaitLogged(t, &b, res[tc.re], nil)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("WaitLogged = %v, want %v", got, tc.want)
			}
		})
	}
}
