package conformance

// The schema test renders both kustomizations (knative/ and infra/cluster/) with
// kustomize's own Go API, as `kubectl kustomize` does, and validates every
// document the way the API server would on `kubectl apply` (field validation
// Strict, kubectl's default):
//
//   - a custom resource of Knative Serving, Knative Eventing or the Gateway API
//     against the CRD shipped in that project's Go module (config/ of
//     knative.dev/serving and knative.dev/eventing, config/crd/experimental of
//     sigs.k8s.io/gateway-api), with the API server's own code from
//     k8s.io/apiextensions-apiserver: defaulting, unknown fields (pruning),
//     the OpenAPI schema, list-type invariants and the x-kubernetes-validations
//     CEL rules, in the order of pkg/registry/customresource/strategy.go;
//   - a core kind (Namespace, ConfigMap, Service, ServiceAccount, NetworkPolicy,
//     StatefulSet, Deployment, Job)
//     decoded strictly into its k8s.io/api type (unknown and mistyped fields);
//   - KafkaSink, KafkaSource (eventing-kafka-broker, which the module proxy does
//     not serve) and the Strimzi kinds are knative/topology's job: it checks them
//     with our own rules.
//
// A kind in neither list fails the test, so a new kind is never left unchecked.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The kustomizations a cluster applies, and the manifests applied on their own.
var (
	kustomizations = []string{"..", "../../infra/cluster"}
	looseManifests = []string{"../../infra/cluster/dlq/job.yaml"}
)

// crdSources are the modules whose CRDs we validate against, and where in each
// module the CRD files are.
var crdSources = []struct{ module, glob string }{
	{"knative.dev/serving", "config/core/300-resources/*.yaml"},
	{"knative.dev/eventing", "config/core/resources/*.yaml"},
	// experimental: the HTTPRoute's rules[].retry (GEP-1731) is only there
	// (infra/cluster/http-route.yaml, README.md "Deploying to a cluster").
	{"sigs.k8s.io/gateway-api", "config/crd/experimental/gateway.networking.k8s.io_*.yaml"},
}

// coreKinds are checked by a strict decode into their Go types.
var coreKinds = map[string]func() any{
	"v1/Namespace":                       func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                       func() any { return &corev1.ConfigMap{} },
	"v1/Service":                         func() any { return &corev1.Service{} },
	"apps/v1/StatefulSet":                func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":                 func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                       func() any { return &batchv1.Job{} },
	"v1/ServiceAccount":                  func() any { return &corev1.ServiceAccount{} },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
}

// ourRules are the kinds knative/topology checks instead.
var ourRules = map[string]bool{
	"eventing.knative.dev/v1alpha1/KafkaSink": true,
	"sources.knative.dev/v1/KafkaSource":      true,
	"kafka.strimzi.io/v1beta2/KafkaTopic":     true,
	"kafka.strimzi.io/v1/Kafka":               true,
	"kafka.strimzi.io/v1/KafkaNodePool":       true,
	"kafka.strimzi.io/v1/KafkaUser":           true,
}

// crdSchema is one served version of a CRD, ready to validate with.
type crdSchema struct {
	source     string // module and file, for messages
	namespaced bool
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// loadCRDs reads every CRD of crdSources, by "group/version/Kind".
func loadCRDs(t *testing.T) map[string]*crdSchema {
	t.Helper()
	out := map[string]*crdSchema{}
	for _, src := range crdSources {
		dir := moduleDir(t, src.module)
		files, err := filepath.Glob(filepath.Join(dir, src.glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("no CRDs at %s/%s: %v", src.module, src.glob, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range splitYAML(string(data)) {
				var head struct{ Kind string }
				if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if head.Kind != "CustomResourceDefinition" {
					continue
				}
				var crd apiextensionsv1.CustomResourceDefinition
				if err := yaml.Unmarshal([]byte(doc), &crd); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for _, v := range crd.Spec.Versions {
					if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
						continue
					}
					where := src.module + "/" + strings.TrimPrefix(f, dir+"/")
					out[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = compileSchema(t, where, crd.Spec.Scope == apiextensionsv1.NamespaceScoped, v.Schema.OpenAPIV3Schema)
				}
			}
		}
	}
	return out
}

func compileSchema(t *testing.T, where string, namespaced bool, v1 *apiextensionsv1.JSONSchemaProps) *crdSchema {
	t.Helper()
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v1, &internal, nil); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatalf("%s: not a structural schema: %v", where, err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return &crdSchema{
		source: where, namespaced: namespaced, structural: structural, validator: validator,
		cel: cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}
}

// moduleDir is where the go command keeps a dependency of this module, at the
// version go.mod selects; it is downloaded first when the build never needed it
// (the Gateway API's CRDs are not Go code we import).
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s: %v %s", module, err, m.Error)
	}
	return m.Dir
}

// document is one rendered object.
type document struct {
	from string // the kustomization
	obj  map[string]any
}

func (d document) key() string {
	return fmt.Sprint(d.obj["apiVersion"]) + "/" + fmt.Sprint(d.obj["kind"])
}

func (d document) String() string {
	name, _, _ := unstructured.NestedString(d.obj, "metadata", "name")
	return d.from + ": " + fmt.Sprint(d.obj["kind"]) + " " + name
}

// render builds one kustomization as kubectl kustomize does.
func render(t *testing.T, dir string) []document {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []document
	for _, r := range resources.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		out = append(out, document{from: filepath.Clean(dir), obj: m})
	}
	return out
}

// validate returns what the API server would refuse in d, or nil.
func validate(crds map[string]*crdSchema, d document) []string {
	key := d.key()
	if newObj, ok := coreKinds[key]; ok {
		data, err := json.Marshal(d.obj)
		if err != nil {
			return []string{err.Error()}
		}
		strict, err := sigsjson.UnmarshalStrict(data, newObj())
		if err != nil {
			return []string{err.Error()}
		}
		var msgs []string
		for _, e := range strict {
			msgs = append(msgs, e.Error())
		}
		return msgs
	}
	s, ok := crds[key]
	if !ok {
		return []string{fmt.Sprintf("no schema for %s and no rule of ours: add its CRD to crdSources or cover it in knative/topology", key)}
	}
	return s.validate(d.obj)
}

// validate runs, on a copy of obj, what the API server runs on a create.
func (s *crdSchema) validate(obj map[string]any) []string {
	u := &unstructured.Unstructured{Object: runtimeCopy(obj)}
	var msgs []string
	// Strict field validation: a field the schema does not know is an error.
	for _, p := range pruning.PruneWithOptions(u.Object, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		msgs = append(msgs, "unknown field "+p)
	}
	structuraldefaulting.Default(u.Object, s.structural)
	var errs field.ErrorList
	errs = append(errs, metavalidation.ValidateObjectMetaAccessor(u, s.namespaced, metavalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.Object, s.validator)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, u.Object)...)
	if len(errs) == 0 {
		celErrs, _ := s.cel.Validate(context.Background(), nil, s.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

// runtimeCopy deep-copies a decoded JSON object, turning float64 numbers that
// hold integers into int64 as the API server's decoder does.
func runtimeCopy(obj map[string]any) map[string]any {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		panic(err)
	}
	return u.Object
}

func TestEveryRenderedDocumentIsSchemaValid(t *testing.T) {
	crds := loadCRDs(t)
	counts := map[string]int{}
	for _, dir := range kustomizations {
		docs := render(t, dir)
		if len(docs) == 0 {
			t.Fatalf("%s renders nothing", dir)
		}
		for _, d := range docs {
			counts[d.key()]++
			if ourRules[d.key()] {
				continue
			}
			for _, msg := range validate(crds, d) {
				t.Errorf("%s: %s", d, msg)
			}
		}
	}
	for _, f := range looseManifests {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitYAML(string(data)) {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d := document{from: f, obj: obj}
			counts[d.key()]++
			for _, msg := range validate(crds, d) {
				t.Errorf("%s: %s", d, msg)
			}
		}
	}
	// What a cluster gets: every kind we ship, each validated by one of the paths.
	var kinds []string
	for k, n := range counts {
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("validated: %s", strings.Join(kinds, ", "))
	for _, want := range []string{"serving.knative.dev/v1/Service", "sources.knative.dev/v1/SinkBinding", "sources.knative.dev/v1/PingSource",
		"gateway.networking.k8s.io/v1/Gateway", "gateway.networking.k8s.io/v1/HTTPRoute", "batch/v1/Job"} {
		if counts[want] == 0 {
			t.Errorf("no %s rendered; the test would pass without looking at it", want)
		}
	}
}

// The validator refuses what the API server refuses: each edit of a shipped
// document must produce the named problem.
func TestSchemaValidationRejectsBrokenDocuments(t *testing.T) {
	crds := loadCRDs(t)
	byName := map[string]document{}
	for _, dir := range kustomizations {
		for _, d := range render(t, dir) {
			name, _, _ := unstructured.NestedString(d.obj, "metadata", "name")
			byName[fmt.Sprint(d.obj["kind"])+"/"+name] = d
		}
	}
	cases := []struct {
		name, object string
		edit         func(o map[string]any)
		want         string
	}{
		{"Service: containerConcurrency is a string", "Service/signup", func(o map[string]any) {
			set(o, "ten", "spec", "template", "spec", "containerConcurrency")
		}, "containerConcurrency"},
		{"Service: unknown field", "Service/signup", func(o map[string]any) {
			set(o, true, "spec", "template", "spec", "scaleToZero")
		}, "unknown field"},
		{"PingSource: unknown field in spec", "PingSource/outbox-relay", func(o map[string]any) {
			set(o, "UTC", "spec", "timeZone")
		}, "unknown field"},
		{"HTTPRoute: a path match type the API does not have", "HTTPRoute/tidings", func(o map[string]any) {
			rules := o["spec"].(map[string]any)["rules"].([]any)
			set(rules[0].(map[string]any)["matches"].([]any)[0].(map[string]any), "Prefix", "path", "type")
		}, "Unsupported value"},
		{"HTTPRoute: RequestRedirect with urlRewrite set (a CEL rule)", "HTTPRoute/tidings-https-redirect", func(o map[string]any) {
			rules := o["spec"].(map[string]any)["rules"].([]any)
			set(rules[0].(map[string]any)["filters"].([]any)[0].(map[string]any), map[string]any{"hostname": "x.example.com"}, "urlRewrite")
		}, "urlRewrite"},
		{"HTTPRoute: a redirect status the API does not allow", "HTTPRoute/tidings-https-redirect", func(o map[string]any) {
			rules := o["spec"].(map[string]any)["rules"].([]any)
			set(rules[0].(map[string]any)["filters"].([]any)[0].(map[string]any), int64(200), "requestRedirect", "statusCode")
		}, "statusCode"},
		{"Gateway: TLS termination without a certificate (a CEL rule)", "Gateway/tidings", func(o map[string]any) {
			https := o["spec"].(map[string]any)["listeners"].([]any)[1].(map[string]any)
			delete(https["tls"].(map[string]any), "certificateRefs")
		}, "certificateRefs or options must be specified"},
		{"Gateway: tls on the HTTP listener (a CEL rule)", "Gateway/tidings", func(o map[string]any) {
			ls := o["spec"].(map[string]any)["listeners"].([]any)
			ls[0].(map[string]any)["tls"] = ls[1].(map[string]any)["tls"]
		}, "tls must not be specified"},
		{"Gateway: two listeners with one name", "Gateway/tidings", func(o map[string]any) {
			ls := o["spec"].(map[string]any)["listeners"].([]any)
			ls[1].(map[string]any)["name"] = "http"
		}, "listeners"},
		{"StatefulSet: unknown field", "StatefulSet/minio", func(o map[string]any) {
			set(o, 1, "spec", "replica")
		}, "unknown field"},
		{"Job: wrong type", "Job/minio-bucket-user", func(o map[string]any) {
			set(o, "ten", "spec", "backoffLimit")
		}, "backoffLimit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := byName[tc.object]
			if !ok {
				t.Fatalf("no %s rendered", tc.object)
			}
			if msgs := validate(crds, d); len(msgs) > 0 {
				t.Fatalf("the shipped %s is already invalid: %v", tc.object, msgs)
			}
			broken := document{from: d.from, obj: runtimeCopy(d.obj)}
			tc.edit(broken.obj)
			msgs := validate(crds, broken)
			if len(msgs) == 0 {
				t.Fatalf("%s accepted", tc.name)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("problems %q do not mention %q", msgs, tc.want)
			}
		})
	}
}

// set puts v at path in o, creating maps on the way.
func set(o map[string]any, v any, path ...string) {
	for _, p := range path[:len(path)-1] {
		next, ok := o[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			o[p] = next
		}
		o = next
	}
	o[path[len(path)-1]] = v
}
