package topology

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const clusterDir = "../../infra/cluster"

// object is any Kubernetes object, read loosely: infra/cluster holds kinds this
// package does not model.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
	Resources  []string          `json:"resources"`
	Namespace  string            `json:"namespace"` // a Kustomization's
}

// readObjects parses every document of a file, rejecting YAML errors and
// duplicate keys.
func readObjects(t *testing.T, path string) []object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	for _, doc := range splitDocuments(filepath.Base(path), data) {
		j, err := yaml.YAMLToJSONStrict(doc.yaml())
		if err != nil {
			t.Fatalf("%s: %v", doc.file, err)
		}
		var o object
		if err := json.Unmarshal(j, &o); err != nil {
			t.Fatalf("%s:%d: %v", doc.file, doc.line, err)
		}
		if o.APIVersion == "" || o.Kind == "" {
			t.Errorf("%s:%d: apiVersion and kind are required", doc.file, doc.line)
		}
		out = append(out, o)
	}
	return out
}

// Both kustomizations list exactly the YAML files next to them.
func TestKustomizationsListEveryManifest(t *testing.T) {
	for _, dir := range []string{knativeDir, clusterDir} {
		k := readObjects(t, filepath.Join(dir, "kustomization.yaml"))
		if len(k) != 1 || k[0].Kind != "Kustomization" || k[0].Namespace != "tidings" {
			t.Fatalf("%s/kustomization.yaml = %+v", dir, k)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		var want []string
		for _, f := range files {
			if b := filepath.Base(f); b != "kustomization.yaml" {
				want = append(want, b)
			}
		}
		got := slices.Clone(k[0].Resources)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s/kustomization.yaml resources = %v, want %v", dir, got, want)
		}
	}
}

// The cluster's backing services provide what the Services import: the
// ConfigMap and Secret named in envFrom, with every variable the local stack
// injects, and a Kafka whose bootstrap address is the one in the manifests.
func TestClusterMatchesTopology(t *testing.T) {
	topo := loadShipped(t)
	objects := map[string]object{}
	files, _ := filepath.Glob(filepath.Join(clusterDir, "*.yaml"))
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, o := range readObjects(t, f) {
			key := o.Kind + "/" + o.Metadata.Name
			if _, dup := objects[key]; dup {
				t.Errorf("%s defined twice", key)
			}
			if o.Kind != "Namespace" && o.Metadata.Namespace != "tidings" {
				t.Errorf("%s in namespace %q", key, o.Metadata.Namespace)
			}
			objects[key] = o
		}
	}
	for _, want := range []string{"Namespace/tidings", "Kafka/tidings", "KafkaNodePool/dual-role", "StatefulSet/postgres",
		"Service/postgres", "Deployment/redis", "Service/redis", "StatefulSet/minio", "Service/minio",
		"ConfigMap/tidings-config", "Secret/tidings-secrets", "Gateway/tidings", "HTTPRoute/tidings"} {
		if _, ok := objects[want]; !ok {
			t.Errorf("infra/cluster has no %s", want)
		}
	}

	env := map[string]string{}
	for _, s := range topo.Services {
		for _, e := range s.EnvFrom {
			o, ok := objects[e.Kind+"/"+e.Name]
			if !ok {
				t.Errorf("Service %s imports %s %s, which infra/cluster does not define", s.Name, e.Kind, e.Name)
				continue
			}
			for k, v := range o.Data {
				env[k] = v
			}
			for k, v := range o.StringData {
				env[k] = v
			}
		}
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET", "SMTP_ADDR", "KAFKA_BROKERS"} {
		if env[name] == "" {
			t.Errorf("no %s in the ConfigMap/Secret the Services import", name)
		}
	}

	// Strimzi names the bootstrap Service <cluster>-kafka-bootstrap.
	bootstrap := objects["Kafka/tidings"].Metadata.Name + "-kafka-bootstrap.tidings.svc:9092"
	if env["KAFKA_BROKERS"] != bootstrap {
		t.Errorf("KAFKA_BROKERS = %q, want %q", env["KAFKA_BROKERS"], bootstrap)
	}
	for _, k := range topo.KafkaSinks {
		if !slices.Equal(k.BootstrapServers, []string{bootstrap}) {
			t.Errorf("KafkaSink %s bootstrapServers = %v, want %s", k.Name, k.BootstrapServers, bootstrap)
		}
	}
	for _, k := range topo.KafkaSources {
		if !slices.Equal(k.BootstrapServers, []string{bootstrap}) {
			t.Errorf("KafkaSource %s bootstrapServers = %v, want %s", k.Name, k.BootstrapServers, bootstrap)
		}
	}

	db, err := url.Parse(env["DATABASE_URL"])
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	if pw, _ := db.User.Password(); pw != env["POSTGRES_PASSWORD"] || !strings.HasPrefix(db.Host, "postgres.tidings.svc") {
		t.Errorf("DATABASE_URL %q does not match the Postgres StatefulSet and its password", env["DATABASE_URL"])
	}
}
