package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/internal/flagenv"
)

// The flags --max-staleness replaced still work, with a warning, and
// conflicting combinations are refused.
func TestDeprecatedStalenessFlags(t *testing.T) {
	cases := []struct {
		name          string
		args          []string
		env           map[string]string
		wantStaleness time.Duration
		wantBeats     bool
		wantWarn      string
		wantErr       string
	}{
		{name: "defaults", wantStaleness: defaultMaxStaleness, wantBeats: true},
		{name: "max-staleness", args: []string{"--max-staleness", "3s"}, wantStaleness: 3 * time.Second, wantBeats: true},
		{name: "max-lag is an alias", args: []string{"--max-lag", "4s"}, wantStaleness: 4 * time.Second, wantBeats: true, wantWarn: "--max-lag"},
		{name: "max-lag from the environment", env: map[string]string{"GINTOKI_MAX_LAG": "2s"}, wantStaleness: 2 * time.Second, wantBeats: true, wantWarn: "--max-lag"},
		{name: "both", args: []string{"--max-lag", "4s", "--max-staleness", "3s"}, wantErr: "give only --max-staleness"},
		{name: "heartbeat-timeout 0 turns heartbeats off", args: []string{"--heartbeat-timeout", "0"}, wantStaleness: defaultMaxStaleness, wantWarn: "--heartbeats=false"},
		{name: "other heartbeat-timeout ignored", args: []string{"--heartbeat-timeout", "10s"}, wantStaleness: defaultMaxStaleness, wantBeats: true, wantWarn: "ignored"},
		{name: "heartbeat-timeout 0 against heartbeats=true", args: []string{"--heartbeat-timeout", "0", "--heartbeats=true"}, wantErr: "--heartbeats=true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := flagEnv(flagenv.Map(tc.env))
			var cfg serveConfig
			fs := newFlagSet("serve", "", env, &strings.Builder{})
			cfg.flags(fs)
			if err := env.Parse(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			warnings, err := cfg.resolveDeprecated(env.Given(fs))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxStaleness != tc.wantStaleness || cfg.Heartbeats != tc.wantBeats {
				t.Errorf("max staleness %v, heartbeats %v; want %v, %v", cfg.MaxStaleness, cfg.Heartbeats, tc.wantStaleness, tc.wantBeats)
			}
			joined := strings.Join(warnings, "\n")
			if (tc.wantWarn == "") != (joined == "") || !strings.Contains(joined, tc.wantWarn) {
				t.Errorf("warnings %q, want one containing %q", joined, tc.wantWarn)
			}
		})
	}
}

func TestProbeIntervalFollowsTheBound(t *testing.T) {
	for bound, want := range map[time.Duration]time.Duration{
		5 * time.Second: 250 * time.Millisecond, 500 * time.Millisecond: 50 * time.Millisecond, time.Minute: time.Second,
	} {
		if got := probeInterval(bound); got != want {
			t.Errorf("probeInterval(%v) = %v, want %v", bound, got, want)
		}
	}
}
