package kubernetes

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/gintoki/gintoki/deploy/internal/containerfile"
	"github.com/gintoki/gintoki/deploy/internal/gintokibin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	gintokibin.Cleanup()
	os.Exit(code)
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := loadManifests(t)
	counts := map[string]int{}
	for _, o := range objs {
		counts[o.kind]++
	}
	want := map[string]int{"Namespace": 1, "ConfigMap": 2, "Deployment": 2, "Service": 3, "PodDisruptionBudget": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d %s objects, want %d (all: %v)", counts[k], k, n, counts)
		}
	}

	// The decoder is strict: a misspelt or misplaced field is an error,
	// not silently dropped.
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n",
		"duplicate field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: '1'}\ndata: {B: '2'}\n",
		"unknown kind":    "apiVersion: v1\nkind: Servic\nmetadata: {name: x}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n",
	} {
		if _, _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	files, _ := filepath.Glob("*.yaml")
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	slices.Sort(files)
	res := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(files, res) {
		t.Errorf("kustomization.yaml lists %v; the directory has %v", res, files)
	}
	for _, o := range loadManifests(t) {
		if ns := namespaceOf(o.obj); o.kind != "Namespace" && ns != k.Namespace {
			t.Errorf("%s: %s in namespace %q, kustomization says %q", o.file, o.kind, ns, k.Namespace)
		}
	}
}

func namespaceOf(obj any) string {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		return o.Namespace
	case *corev1.Service:
		return o.Namespace
	case *appsv1.Deployment:
		return o.Namespace
	case *policyv1.PodDisruptionBudget:
		return o.Namespace
	}
	return ""
}

// Every flag a container sets, on its command line, in its environment or
// through its ConfigMap, is one `gintoki <subcommand> --help` lists.
func TestReferencedFlagsExist(t *testing.T) {
	// Read by the Go runtime, not by a flag.
	goRuntimeEnv := map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true}
	objs := loadManifests(t)
	bin := filepath.Join(gintokibin.Build(t), "gintoki")
	for _, sub := range []string{"serve", "relay"} {
		t.Run(sub, func(t *testing.T) {
			flags := gintokibin.Flags(t, bin, sub)
			envFlag := map[string]string{}
			for name, env := range flags {
				envFlag[env] = name
			}
			c := deployment(t, objs, sub).Spec.Template.Spec.Containers[0]
			for _, a := range c.Args[1:] {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if strings.HasPrefix(a, "-") && flags[name] == "" {
					t.Errorf("argument %q: gintoki %s has no flag --%s", a, sub, name)
				}
			}
			var names []string
			for _, e := range c.Env {
				names = append(names, e.Name)
			}
			for k := range settings(t, objs, c) {
				names = append(names, k)
			}
			for _, n := range names {
				if envFlag[n] == "" && !goRuntimeEnv[n] {
					t.Errorf("environment variable %s: gintoki %s has no flag reading it", n, sub)
				}
			}
		})
	}
}

// The DSN, the relay's database credentials and the Kafka user come from
// Secrets, never from a ConfigMap or a literal; the Kafka password file
// is a mounted Secret.
func TestCredentialsComeFromSecrets(t *testing.T) {
	objs := loadManifests(t)
	for sub, secret := range map[string][]string{
		"serve": {"GINTOKI_DB_DSN", "GINTOKI_KAFKA_SASL_USER"},
		"relay": {"GINTOKI_DB_USER", "GINTOKI_DB_PASSWORD", "GINTOKI_KAFKA_SASL_USER"},
	} {
		d := deployment(t, objs, sub)
		c := d.Spec.Template.Spec.Containers[0]
		for _, name := range secret {
			i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
			if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s: %s is not taken from a Secret", sub, name)
			}
		}
		file := settings(t, objs, c)["GINTOKI_KAFKA_SASL_PASSWORD_FILE"]
		if !fromSecretVolume(d, c, file) {
			t.Errorf("%s: the Kafka password file %q is not in a volume mounted from a Secret", sub, file)
		}
	}
	for _, cm := range all[*corev1.ConfigMap](objs) {
		for k := range cm.Data {
			secret := (strings.Contains(k, "PASSWORD") && !strings.HasSuffix(k, "_FILE")) || strings.Contains(k, "DSN") || strings.HasSuffix(k, "_USER")
			if secret {
				t.Errorf("ConfigMap %s holds %s: credentials belong in a Secret", cm.Name, k)
			}
		}
	}
}

// fromSecretVolume reports whether file lies in a mount of a Secret volume.
func fromSecretVolume(d *appsv1.Deployment, c corev1.Container, file string) bool {
	for _, m := range c.VolumeMounts {
		if file == "" || !strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return true
			}
		}
	}
	return false
}

// The probes use named ports that the container declares, on the port the
// binary is told to listen on, and paths it serves.
func TestProbesPointAtServedEndpoints(t *testing.T) {
	objs := loadManifests(t)
	for sub, addrFlag := range map[string]string{"serve": "GINTOKI_HTTP_ADDR", "relay": "GINTOKI_METRICS_ADDR"} {
		c := deployment(t, objs, sub).Spec.Template.Spec.Containers[0]
		_, port, err := net.SplitHostPort(settings(t, objs, c)[addrFlag])
		if err != nil {
			t.Fatalf("%s: %s: %v", sub, addrFlag, err)
		}
		for name, p := range probes(c) {
			if p == nil {
				if sub == "serve" || name != "startup" {
					t.Errorf("%s: no %s probe", sub, name)
				}
				continue
			}
			if p.HTTPGet == nil {
				t.Errorf("%s: %s probe is not an HTTP GET", sub, name)
				continue
			}
			i := slices.IndexFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.HTTPGet.Port.String() })
			switch {
			case i < 0:
				t.Errorf("%s: %s probe on port %q, which the container does not declare", sub, name, p.HTTPGet.Port.String())
			case strconv.Itoa(int(c.Ports[i].ContainerPort)) != port:
				t.Errorf("%s: %s probe on port %d, the binary listens on %s (%s)", sub, name, c.Ports[i].ContainerPort, port, addrFlag)
			}
		}
	}

	// The service's probe paths, against the binary itself. It answers
	// /healthz and /readyz (503 here: no database, no broker) as soon as it
	// listens. The relay's need a database to start; deploy/e2e checks them
	// against a running relay.
	c := deployment(t, objs, "serve").Spec.Template.Spec.Containers[0]
	base := startServe(t, filepath.Join(gintokibin.Build(t), "gintoki"))
	wantStatus := map[string]int{"liveness": http.StatusOK, "readiness": http.StatusServiceUnavailable, "startup": http.StatusServiceUnavailable}
	for name, p := range probes(c) {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		resp, err := http.Get(base + p.HTTPGet.Path)
		if err != nil {
			t.Fatalf("%s probe: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != wantStatus[name] {
			t.Errorf("%s probe: GET %s = %d, want %d from a node without database and broker", name, p.HTTPGet.Path, resp.StatusCode, wantStatus[name])
		}
	}
}

func probes(c corev1.Container) map[string]*corev1.Probe {
	return map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe}
}

// The pod's memory is derived from --cache-bytes: the limit covers the
// cache, the headroom (the Go memory limit is their sum) and an overhead
// of at least 64 MiB; the request equals the limit.
func TestServeMemoryFollowsCacheBytes(t *testing.T) {
	objs := loadManifests(t)
	c := deployment(t, objs, "serve").Spec.Template.Spec.Containers[0]
	env := settings(t, objs, c)
	cacheBytes, err1 := strconv.ParseInt(env["GINTOKI_CACHE_BYTES"], 10, 64)
	headroom, err2 := strconv.ParseInt(env["GINTOKI_MEMORY_HEADROOM"], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("GINTOKI_CACHE_BYTES and GINTOKI_MEMORY_HEADROOM must be set in bytes: %v %v", err1, err2)
	}
	limit, request := c.Resources.Limits[corev1.ResourceMemory], c.Resources.Requests[corev1.ResourceMemory]
	min := resource.NewQuantity(cacheBytes+headroom+64<<20, resource.BinarySI)
	if limit.Cmp(*min) < 0 {
		t.Errorf("memory limit %s < cache %d + headroom %d + 64 MiB = %s", limit.String(), cacheBytes, headroom, min.String())
	}
	if request.Cmp(limit) != 0 {
		t.Errorf("memory request %s != limit %s", request.String(), limit.String())
	}
	if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		t.Error("a CPU limit throttles GC stop-the-world phases; request CPU only")
	}
}

// A node that is told to stop drains for --drain-delay (not ready, still
// serving), then finishes in-flight requests within --shutdown-timeout, all
// inside the grace period.
func TestServeDrainsWithinGracePeriod(t *testing.T) {
	objs := loadManifests(t)
	d := deployment(t, objs, "serve")
	c := d.Spec.Template.Spec.Containers[0]
	env := settings(t, objs, c)
	drain, err := time.ParseDuration(env["GINTOKI_DRAIN_DELAY"])
	if err != nil {
		t.Fatalf("GINTOKI_DRAIN_DELAY: %v: the load balancers would still send requests to a stopping node", err)
	}
	shutdown, err := time.ParseDuration(env["GINTOKI_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("GINTOKI_SHUTDOWN_TIMEOUT: %v", err)
	}
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if drain < 5*time.Second || drain+shutdown >= grace {
		t.Errorf("drain delay %s (≥ 5s) + shutdown timeout %s must stay below the grace period %s", drain, shutdown, grace)
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		t.Error("a preStop hook delays SIGTERM, and with it the drain: --drain-delay does its work")
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("rolling updates must not take a node away before its replacement is ready (maxUnavailable: 0)")
	}
}

// Services and the PodDisruptionBudget select the pods of a Deployment,
// and Services target ports the pods declare.
func TestSelectorsMatchPods(t *testing.T) {
	objs := loadManifests(t)
	deps := all[*appsv1.Deployment](objs)
	podsOf := func(sel map[string]string) *appsv1.Deployment {
		for _, d := range deps {
			if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels)) {
				return d
			}
		}
		return nil
	}
	for _, d := range deps {
		if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector does not match its own pods", d.Name)
		}
	}
	for _, s := range all[*corev1.Service](objs) {
		d := podsOf(s.Spec.Selector)
		if d == nil {
			t.Errorf("Service %s selects no Deployment's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			c := d.Spec.Template.Spec.Containers[0]
			if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.String() }) {
				t.Errorf("Service %s: port %s targets %q, which %s's container does not declare", s.Name, p.Name, p.TargetPort.String(), d.Name)
			}
		}
	}
	for _, pdb := range all[*policyv1.PodDisruptionBudget](objs) {
		if d := podsOf(pdb.Spec.Selector.MatchLabels); d == nil || d.Spec.Template.Spec.Containers[0].Args[0] != "serve" {
			t.Errorf("PodDisruptionBudget %s does not select the service's pods", pdb.Name)
		}
	}
}

// The relay runs as a leader and a standby.
func TestRelayLeaderAndStandby(t *testing.T) {
	d := deployment(t, loadManifests(t), "relay")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("relay replicas = %v, want 2 (a leader and a standby)", d.Spec.Replicas)
	}
}

// The pods run as the image's non-root user.
func TestPodsRunAsNonRoot(t *testing.T) {
	for _, d := range all[*appsv1.Deployment](loadManifests(t)) {
		sc := d.Spec.Template.Spec.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("Deployment %s: pods may run as root", d.Name)
			continue
		}
		if got, want := fmt.Sprint(*sc.RunAsUser), imageUser(t); got != want {
			t.Errorf("Deployment %s runs as user %s; the image's USER is %s", d.Name, got, want)
		}
	}
}

// imageUser returns the uid of the image's USER instruction.
func imageUser(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins, err := containerfile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		if in.Cmd == "USER" {
			uid, _, _ := strings.Cut(in.Args, ":")
			return uid
		}
	}
	t.Fatal("the Containerfile has no USER")
	return ""
}
