package kubernetes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// object is one decoded manifest document.
type object struct {
	file string
	kind string
	obj  any // *appsv1.Deployment, *corev1.Service, ...
}

// kinds maps apiVersion/kind to a new value of its API type. A kind not
// listed is an error: add it here when a manifest needs it.
var kinds = map[string]func() any{
	"v1/Namespace":                  func() any { return new(corev1.Namespace) },
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeStrict decodes one YAML document into its API type, rejecting
// unknown and duplicate fields.
func decodeStrict(doc []byte) (string, any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "", nil, fmt.Errorf("read apiVersion and kind: %w", err)
	}
	newObj, ok := kinds[head.APIVersion+"/"+head.Kind]
	if !ok {
		return "", nil, fmt.Errorf("unknown apiVersion/kind %q/%q", head.APIVersion, head.Kind)
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return "", nil, fmt.Errorf("%s: %w", head.Kind, err)
	}
	return head.Kind, obj, nil
}

// loadManifests decodes every document of every .yaml file in the
// directory except kustomization.yaml.
func loadManifests(tb testing.TB) []object {
	tb.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no manifests: %v", err)
	}
	var objs []object
	for _, f := range files {
		if f == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			kind, obj, err := decodeStrict([]byte(doc))
			if err != nil {
				tb.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			objs = append(objs, object{file: f, kind: kind, obj: obj})
		}
	}
	return objs
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// all returns the decoded objects of type T.
func all[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if t, ok := o.obj.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// deployment returns the Deployment whose single container runs
// `gintoki <subcommand>`.
func deployment(tb testing.TB, objs []object, subcommand string) *appsv1.Deployment {
	tb.Helper()
	for _, d := range all[*appsv1.Deployment](objs) {
		if c := d.Spec.Template.Spec.Containers; len(c) == 1 && len(c[0].Args) > 0 && c[0].Args[0] == subcommand {
			return d
		}
	}
	tb.Fatalf("no Deployment runs `gintoki %s`", subcommand)
	return nil
}

// configMap returns the ConfigMap named name.
func configMap(tb testing.TB, objs []object, name string) *corev1.ConfigMap {
	tb.Helper()
	for _, c := range all[*corev1.ConfigMap](objs) {
		if c.Name == name {
			return c
		}
	}
	tb.Fatalf("no ConfigMap %q", name)
	return nil
}

// settings returns the environment a container gets from its ConfigMaps
// (envFrom) and literal env values: what the binary reads as flags.
func settings(tb testing.TB, objs []object, c corev1.Container) map[string]string {
	tb.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			tb.Fatalf("container %s: envFrom other than a ConfigMap", c.Name)
		}
		for k, v := range configMap(tb, objs, from.ConfigMapRef.Name).Data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}
