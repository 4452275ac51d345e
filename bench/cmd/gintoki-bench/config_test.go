package main

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/gintoki/gintoki/bench/phase"
	"github.com/gintoki/gintoki/internal/flagenv"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr bool
		check   func(t *testing.T, c phase.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c phase.Config) {
			if c.Duration != 10*time.Second || c.FreshDuration != 10*time.Second || c.Rounds != 3 || len(c.Rates) != 2 {
				t.Errorf("full defaults: %+v", c)
			}
			if a := c.Addrs(); a.NoCacheHTTP != "127.0.0.1:18081" || a.BareGRPC != "127.0.0.1:19092" || a.MemHTTP != "127.0.0.1:18083" {
				t.Errorf("derived addresses: %+v", a)
			}
		}},
		{name: "quick from the environment", env: map[string]string{"GINTOKI_BENCH_QUICK": "1"}, check: func(t *testing.T, c phase.Config) {
			if !c.Quick || c.Duration != 2*time.Second || c.FixedDuration != 2*time.Second || c.GCDuration != 3*time.Second {
				t.Errorf("quick defaults: %+v", c)
			}
		}},
		{name: "flag wins over the environment", args: []string{"--duration", "5s", "--rates", "100,200"},
			env: map[string]string{"GINTOKI_BENCH_DURATION": "7s", "GINTOKI_BENCH_QUICK": "true"}, check: func(t *testing.T, c phase.Config) {
				if c.Duration != 5*time.Second || c.Rates[1] != 200 {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "phase subset", args: []string{"--phases", "http, memory"}, check: func(t *testing.T, c phase.Config) {
			set, err := phase.Parse(c.Phases)
			if err != nil || !slices.Equal(set.Names(), []string{"http", "memory"}) {
				t.Errorf("phases %v, %v", set.Names(), err)
			}
		}},
		{name: "unknown phase", args: []string{"--phases", "http,nope"}, wantErr: true},
		{name: "bad rates", args: []string{"--rates", "10,x"}, wantErr: true},
		{name: "bad database name", args: []string{"--mem-database", "x; DROP"}, wantErr: true},
		{name: "sample above writes", args: []string{"--fresh-sample", "2000"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, flagenv.Map(tt.env), io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
