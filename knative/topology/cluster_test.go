package topology

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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
	Data      map[string]string `json:"data"`
	Resources []string          `json:"resources"`
	Namespace string            `json:"namespace"` // a Kustomization's
	raw       map[string]any    // the whole document
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
		if err := json.Unmarshal(j, &o.raw); err != nil {
			t.Fatalf("%s:%d: %v", doc.file, doc.line, err)
		}
		if o.APIVersion == "" || o.Kind == "" {
			t.Errorf("%s:%d: apiVersion and kind are required", doc.file, doc.line)
		}
		out = append(out, o)
	}
	return out
}

// Both kustomizations list exactly the YAML files next to them (and, for
// knative/, the migrate Job in its own folder).
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
		if dir == knativeDir {
			want = append(want, "migrate/job.yaml")
		}
		slices.Sort(want)
		got := slices.Clone(k[0].Resources)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s/kustomization.yaml resources = %v, want %v", dir, got, want)
		}
	}
}

// clusterObjects reads every object of infra/cluster by kind/name.
func clusterObjects(t *testing.T) map[string]object {
	t.Helper()
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
	return objects
}

// at walks a decoded document along keys (string keys of maps, int indexes
// of lists) and returns nil where the path does not exist.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := at(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := at(v, path...).([]any)
	return l
}

// secretKeyRefs returns every "secret/key" a document reads with secretKeyRef.
func secretKeyRefs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["secretKeyRef"].(map[string]any); ok {
				out = append(out, str(r, "name")+"/"+str(r, "key"))
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// The cluster's backing services provide what the Services import: the
// ConfigMap named in envFrom with every setting the local stack injects, and a
// Kafka whose bootstrap address is the one in the manifests.
func TestClusterMatchesTopology(t *testing.T) {
	topo := loadShipped(t)
	objects := clusterObjects(t)
	for _, want := range []string{"Namespace/tidings", "Kafka/tidings", "KafkaNodePool/dual-role", "StatefulSet/postgres",
		"Service/postgres", "Deployment/redis", "Service/redis", "StatefulSet/minio", "Service/minio", "Job/minio-bucket-user",
		"ConfigMap/tidings-config", "Gateway/tidings", "HTTPRoute/tidings", "HTTPRoute/tidings-https-redirect"} {
		if _, ok := objects[want]; !ok {
			t.Errorf("infra/cluster has no %s", want)
		}
	}

	config := objects["ConfigMap/tidings-config"].Data
	for _, s := range topo.Services {
		for _, e := range s.EnvFrom {
			if e.Kind != "ConfigMap" {
				t.Errorf("Service %s imports every key of %s %s; name the keys it needs with secretKeyRef", s.Name, e.Kind, e.Name)
			} else if _, ok := objects["ConfigMap/"+e.Name]; !ok {
				t.Errorf("Service %s imports ConfigMap %s, which infra/cluster does not define", s.Name, e.Name)
			}
		}
	}
	for _, name := range []string{"PUBLIC_URL", "REDIS_URL", "S3_ENDPOINT", "S3_BUCKET", "SMTP_ADDR", "KAFKA_BROKERS"} {
		if config[name] == "" {
			t.Errorf("no %s in ConfigMap tidings-config", name)
		}
	}

	// Strimzi names the bootstrap Service <cluster>-kafka-bootstrap.
	kafka := objects["Kafka/tidings"].Metadata.Name
	bootstrap := kafka + "-kafka-bootstrap.tidings.svc:9093"
	if config["KAFKA_BROKERS"] != bootstrap {
		t.Errorf("KAFKA_BROKERS = %q, want %q", config["KAFKA_BROKERS"], bootstrap)
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
	brokers, _ := at(objects["KafkaNodePool/dual-role"].raw, "spec", "replicas").(float64)
	for _, k := range topo.KafkaTopics {
		if k.Cluster != kafka {
			t.Errorf("KafkaTopic %s is for cluster %q; the Kafka is %q", k.Name, k.Cluster, kafka)
		}
		if k.Replicas > int(brokers) {
			t.Errorf("KafkaTopic %s wants %d replicas; the node pool has %v brokers", k.Name, k.Replicas, brokers)
		}
	}
	// Every listener authenticates over TLS and the cluster authorizes with the
	// KafkaUsers' ACLs; the users are for this cluster.
	listeners, _ := at(objects["Kafka/tidings"].raw, "spec", "kafka", "listeners").([]any)
	if len(listeners) == 0 {
		t.Error("Kafka tidings has no listeners")
	}
	for _, l := range listeners {
		l, _ := l.(map[string]any)
		if auth := at(l, "authentication", "type"); auth != "scram-sha-512" || l["tls"] != true || l["port"] != float64(9093) {
			t.Errorf("listener %v: authentication %v, tls %v, port %v; want scram-sha-512 over TLS on 9093", l["name"], auth, l["tls"], l["port"])
		}
	}
	if authz := at(objects["Kafka/tidings"].raw, "spec", "kafka", "authorization", "type"); authz != "simple" {
		t.Errorf("Kafka tidings authorization %v, want simple: without it the KafkaUsers' ACLs are not enforced", authz)
	}
	for _, u := range topo.KafkaUsers {
		if u.Cluster != kafka {
			t.Errorf("KafkaUser %s is for cluster %q; the Kafka is %q", u.Name, u.Cluster, kafka)
		}
	}
	if auto := at(objects["Kafka/tidings"].raw, "spec", "kafka", "config", "auto.create.topics.enable"); auto != false {
		t.Errorf("auto.create.topics.enable = %v: a typo in a topic name must fail, not create a topic", auto)
	}
}

// No Secret is shipped (an apply would reset the real one), and each function
// reads only the secret keys it needs.
func TestSecretsPerFunction(t *testing.T) {
	topo := loadShipped(t)
	for dir, objects := range map[string]map[string]object{clusterDir: clusterObjects(t)} {
		for key := range objects {
			if strings.HasPrefix(key, "Secret/") {
				t.Errorf("%s ships %s: every kubectl apply -k would reset it", dir, key)
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join(knativeDir, "*.yaml")); len(files) > 0 {
		for _, f := range files {
			for _, o := range readObjects(t, f) {
				if o.Kind == "Secret" {
					t.Errorf("%s ships Secret %s", f, o.Metadata.Name)
				}
			}
		}
	}

	db := "tidings-postgres/DATABASE_URL"
	want := map[string][]string{
		"web":    nil,
		"upload": {db, "tidings-s3-upload/S3_ACCESS_KEY", "tidings-s3-upload/S3_SECRET_KEY"},
	}
	for _, s := range topo.Services {
		var got []string
		for _, e := range s.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				r := e.ValueFrom.SecretKeyRef
				got = append(got, r.Name+"/"+r.Key)
				if r.Key != e.Name {
					t.Errorf("Service %s reads %s/%s as %s; keep the key named as the variable", s.Name, r.Name, r.Key, e.Name)
				}
			}
		}
		slices.Sort(got)
		w, ok := want[s.Name]
		if !ok {
			w = []string{db}
		}
		if !slices.Equal(got, w) {
			t.Errorf("Service %s reads secrets %v, want %v", s.Name, got, w)
		}
	}

	// MinIO's root keys reach the server and its setup Job only.
	objects := clusterObjects(t)
	for key, o := range objects {
		for _, ref := range secretKeyRefs(o.raw) {
			if strings.HasPrefix(ref, "tidings-minio-root/") && key != "StatefulSet/minio" && key != "Job/minio-bucket-user" {
				t.Errorf("%s reads %s", key, ref)
			}
		}
	}
	if got := secretKeyRefs(objects["StatefulSet/postgres"].raw); !slices.Equal(got, []string{"tidings-postgres/POSTGRES_PASSWORD"}) {
		t.Errorf("postgres reads %v", got)
	}
}

// readmeSecrets returns the "secret/key" pairs that README.md's "Deploying to a
// cluster" creates with kubectl create secret, and the whole section.
func readmeSecrets(t *testing.T) (map[string]bool, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(knativeDir, "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Deploying to a cluster\n")
	if !ok {
		t.Fatal(`README.md has no "## Deploying to a cluster" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	created := map[string]bool{}
	// A command may continue over lines ending in a backslash.
	commands := strings.Split(strings.ReplaceAll(section, "\\\n", " "), "\n")
	create := regexp.MustCompile(`kubectl create secret (generic|tls) ([a-z0-9-]+)`)
	literal := regexp.MustCompile(`--from-literal=([A-Z0-9_]+)=`)
	for _, c := range commands {
		m := create.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		if m[1] == "tls" {
			created[m[2]+"/tls.crt"], created[m[2]+"/tls.key"] = true, true
		}
		for _, l := range literal.FindAllStringSubmatch(c, -1) {
			created[m[2]+"/"+l[1]] = true
		}
	}
	return created, section
}

// Every secret key a manifest reads is created by the README's deploy steps,
// and the README creates nothing that nothing reads.
func TestSecretsAreDocumented(t *testing.T) {
	topo := loadShipped(t)
	used := map[string]bool{}
	for _, s := range topo.Services {
		for _, e := range s.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				used[e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key] = true
			}
		}
	}
	objects := clusterObjects(t)
	for _, o := range objects {
		for _, ref := range secretKeyRefs(o.raw) {
			used[ref] = true
		}
	}
	for _, l := range list(objects["Gateway/tidings"].raw, "spec", "listeners") {
		for _, c := range list(l, "tls", "certificateRefs") {
			used[str(c, "name")+"/tls.crt"], used[str(c, "name")+"/tls.key"] = true, true
		}
	}
	created, section := readmeSecrets(t)
	for ref := range used {
		if !created[ref] {
			t.Errorf("the manifests read %s; README.md's deploy section does not create it", ref)
		}
	}
	for ref := range created {
		if !used[ref] {
			t.Errorf("README.md creates %s, which no manifest reads", ref)
		}
	}
	// DATABASE_URL must carry the same password as POSTGRES_PASSWORD.
	if !regexp.MustCompile(`POSTGRES_PASSWORD="\$(\w+)"[^\n]*DATABASE_URL="postgres://tidings:\$(\w+)@postgres\.tidings\.svc:5432/tidings`).MatchString(strings.ReplaceAll(section, "\\\n", " ")) {
		t.Error("README.md does not build DATABASE_URL from the same password variable as POSTGRES_PASSWORD")
	}
}

// The Gateway serves the site over HTTPS with the certificate of Secret
// tidings-tls, redirects plain HTTP there, and the app route is on https only.
func TestGatewayServesHTTPSAndRedirects(t *testing.T) {
	objects := clusterObjects(t)
	gw := objects["Gateway/tidings"].raw
	listeners := map[string]any{}
	for _, l := range list(gw, "spec", "listeners") {
		listeners[str(l, "name")] = l
	}
	if l := listeners["http"]; str(l, "protocol") != "HTTP" || at(l, "port") != 80.0 {
		t.Errorf("listener http = %v", l)
	}
	https := listeners["https"]
	if str(https, "protocol") != "HTTPS" || at(https, "port") != 443.0 {
		t.Errorf("listener https = %v", https)
	}
	if mode := str(https, "tls", "mode"); mode != "" && mode != "Terminate" {
		t.Errorf("https tls.mode = %q, want Terminate", mode)
	}
	refs := list(https, "tls", "certificateRefs")
	if len(refs) != 1 || str(refs[0], "name") != "tidings-tls" || (str(refs[0], "kind") != "" && str(refs[0], "kind") != "Secret") {
		t.Errorf("https certificateRefs = %v, want Secret tidings-tls", refs)
	}
	public, err := url.Parse(objects["ConfigMap/tidings-config"].Data["PUBLIC_URL"])
	if err != nil || public.Scheme != "https" || public.Path != "" {
		t.Errorf("PUBLIC_URL = %v (%v): want https://host", public, err)
	} else if h := str(https, "hostname"); h != public.Hostname() {
		t.Errorf("https listener hostname %q is not PUBLIC_URL's host %q", h, public.Hostname())
	}

	redirect := objects["HTTPRoute/tidings-https-redirect"].raw
	if p := list(redirect, "spec", "parentRefs"); len(p) != 1 || str(p[0], "name") != "tidings" || str(p[0], "sectionName") != "http" {
		t.Errorf("redirect parentRefs = %v, want the http listener only", p)
	}
	rules := list(redirect, "spec", "rules")
	if len(rules) != 1 || at(rules[0], "backendRefs") != nil || at(rules[0], "matches") != nil {
		t.Fatalf("redirect rules = %v, want one rule for every path with no backend", rules)
	}
	filters := list(rules[0], "filters")
	if len(filters) != 1 || str(filters[0], "type") != "RequestRedirect" ||
		str(filters[0], "requestRedirect", "scheme") != "https" || at(filters[0], "requestRedirect", "statusCode") != 301.0 {
		t.Errorf("redirect filters = %v, want a 301 RequestRedirect to https", filters)
	}

	route, err := LoadRoute(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range route.raw.Spec.ParentRefs {
		if p.Name != "tidings" || p.SectionName != "https" {
			t.Errorf("http-route.yaml parentRefs[%d] = %+v, want the https listener only", i, p)
		}
	}
	// No secret is shipped for the certificate either.
	if _, ok := objects["Secret/tidings-tls"]; ok {
		t.Error("infra/cluster ships Secret tidings-tls")
	}
}

// ko builds every image on a base pinned by digest, and every ko:// image of
// infra/cluster is buildable from the module it names.
func TestImagesAreBuiltFromSource(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(knativeDir, "..", ".ko.yaml"))
	if err != nil {
		t.Fatalf(".ko.yaml: %v", err)
	}
	var ko struct {
		DefaultBaseImage string `json:"defaultBaseImage"`
	}
	if err := yaml.Unmarshal(data, &ko); err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^(gcr\.io/distroless/static|cgr\.dev/chainguard/static)(:[\w.-]+)?@sha256:[0-9a-f]{64}$`)
	if !pinned.MatchString(ko.DefaultBaseImage) {
		t.Errorf(".ko.yaml defaultBaseImage %q is not a static base pinned by digest", ko.DefaultBaseImage)
	}

	mod, err := os.ReadFile(filepath.Join(clusterDir, "minio", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for key, o := range clusterObjects(t) {
		for _, c := range list(o.raw, "spec", "template", "spec", "containers") {
			image := str(c, "image")
			switch {
			case strings.HasPrefix(image, "ko://github.com/tidings-dev/tidings/infra/cluster/minio/"):
				pkg := strings.TrimPrefix(image, "ko://github.com/tidings-dev/tidings/infra/cluster/minio/")
				if _, err := os.Stat(filepath.Join(clusterDir, "minio", pkg)); err != nil {
					t.Errorf("%s: %s is not in infra/cluster/minio", key, image)
				}
				images++
			case strings.HasPrefix(image, "ko://"):
				if !strings.Contains(string(mod), "\ntool "+strings.TrimPrefix(image, "ko://")+"\n") {
					t.Errorf("%s: %s is not a tool of infra/cluster/minio/go.mod, so ko cannot resolve it there", key, image)
				}
				images++
			case key == "StatefulSet/minio":
				t.Errorf("MinIO runs the prebuilt image %q; build it from source (ko://github.com/minio/minio)", image)
			}
		}
	}
	if images != 2 {
		t.Errorf("%d ko:// images in infra/cluster, want 2 (MinIO and its setup Job)", images)
	}
}
