package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// edit changes one file of a copy of the shipped manifests: the first occurrence
// of old after anchor (or in the whole file when anchor is empty) becomes new.
type edit struct {
	file, anchor, old, new string
}

// want is one problem the edit must cause.
type want struct {
	file, kind, name, field, msg string
}

// copyShipped copies knative/*.yaml into a temporary directory.
func copyShipped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(knativeDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped manifests: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func applyEdit(t *testing.T, dir string, e edit) {
	t.Helper()
	path := filepath.Join(dir, e.file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	start := 0
	if e.anchor != "" {
		start = strings.Index(s, e.anchor)
		if start < 0 {
			t.Fatalf("anchor %q not in %s", e.anchor, e.file)
		}
	}
	i := strings.Index(s[start:], e.old)
	if i < 0 {
		t.Fatalf("%q not in %s after %q", e.old, e.file, e.anchor)
	}
	i += start
	s = s[:i] + e.new + s[i+len(e.old):]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadAndCheck returns Load's error, or Check's when Load succeeds.
func loadAndCheck(dir string) error {
	topo, err := Load(dir)
	if err != nil {
		return err
	}
	return topo.Check()
}

// assertProblem fails unless err holds a FieldError matching w, and its text
// names the file, the object and the field.
func assertProblem(t *testing.T, err error, w want) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %s %s: %s", w.file, w.name, w.field, w.msg)
	}
	for _, p := range Problems(err) {
		if p.File == w.file && p.Kind == w.kind && p.Name == w.name && p.Field == w.field && strings.Contains(p.Msg, w.msg) {
			text := p.Error()
			for _, part := range []string{w.file, w.name, w.field} {
				if !strings.Contains(text, part) {
					t.Errorf("error text %q does not name %q", text, part)
				}
			}
			return
		}
	}
	t.Errorf("no problem %+v in:\n%v", w, err)
}

func TestBrokenManifests(t *testing.T) {
	const welcomeSrc = "name: welcome\n  namespace: tidings\n  labels:"
	const fanoutSrc = "name: fanout\n  namespace: tidings\n  labels:"
	const notifySrc = "name: notify\n  namespace: tidings\n  labels:"
	cases := []brokenCase{
		// Strict decoding (Load).
		{"typo in a delivery field",
			[]edit{{"sources.yaml", welcomeSrc, "    retry: 6", "    retyr: 6"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.retyr", "unknown field"}}},
		{"wrong case in a field name",
			[]edit{{"sources.yaml", welcomeSrc, "backoffDelay: PT0.5S", "BackoffDelay: PT0.5S"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.BackoffDelay", "unknown field"}}},
		{"typo in a revision field",
			[]edit{{"services.yaml", "", "timeoutSeconds: 600", "timeoutSecond: 600"}},
			[]want{{"services.yaml", "Service", "inbox", "spec.template.spec.timeoutSecond", "unknown field"}}},
		{"unmodelled container field",
			[]edit{{"services.yaml", "  name: web\n", "          image:", "          imagePullPolicyy: Always\n          image:"}},
			[]want{{"services.yaml", "Service", "web", "spec.template.spec.containers[0].imagePullPolicyy", "unknown field"}}},
		{"typo in a KafkaSink field",
			[]edit{{"sinks.yaml", "name: posts", "contentMode: binary", "contentMod: binary"}},
			[]want{{"sinks.yaml", "KafkaSink", "posts", "spec.contentMod", "unknown field"}}},
		{"typo in a SinkBinding field",
			[]edit{{"bindings.yaml", "name: post-sink", "  subject:", "  subjct:"}},
			[]want{{"bindings.yaml", "SinkBinding", "post-sink", "spec.subjct", "unknown field"}}},
		{"typo in a PingSource field",
			[]edit{{"pings.yaml", "", "  schedule:", "  schedul:"}},
			[]want{{"pings.yaml", "PingSource", "outbox-relay", "spec.schedul", "unknown field"}}},
		{"wrong value type",
			[]edit{{"sources.yaml", welcomeSrc, "retry: 6", "retry: six"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.retry", "wrong type"}}},
		{"unknown kind",
			[]edit{{"pings.yaml", "", "apiVersion: sources.knative.dev/v1\nkind: PingSource", "apiVersion: v1\nkind: ConfigMap"}},
			[]want{{"pings.yaml", "", "outbox-relay", "kind", `unknown kind "ConfigMap"`}}},
		{"known kind at an unknown version",
			[]edit{{"sources.yaml", "", "apiVersion: sources.knative.dev/v1\nkind: KafkaSource", "apiVersion: sources.knative.dev/v1beta1\nkind: KafkaSource"}},
			[]want{{"sources.yaml", "", "welcome", "kind", "sources.knative.dev/v1beta1"}}},

		// Enums.
		{"bad ordering",
			[]edit{{"sources.yaml", welcomeSrc, "ordering: unordered", "ordering: unorderd"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.ordering", "want ordered or unordered"}}},
		{"bad initialOffset",
			[]edit{{"sources.yaml", fanoutSrc, "initialOffset: earliest", "initialOffset: oldest"}},
			[]want{{"sources.yaml", "KafkaSource", "fanout", "spec.initialOffset", "want earliest or latest"}}},
		{"bad backoffPolicy",
			[]edit{{"sources.yaml", notifySrc, "backoffPolicy: exponential", "backoffPolicy: fibonacci"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.delivery.backoffPolicy", "want linear or exponential"}}},
		{"bad contentMode",
			[]edit{{"sinks.yaml", "name: posts", "contentMode: binary", "contentMode: binery"}},
			[]want{{"sinks.yaml", "KafkaSink", "posts", "spec.contentMode", "want binary or structured"}}},
		{"bad key-type label",
			[]edit{{"sources.yaml", notifySrc, "key-type: string", "key-type: text"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "metadata.labels." + KeyTypeLabel, "want string, int, float or byte-array"}}},
		{"missing ordering",
			[]edit{{"sources.yaml", fanoutSrc, "  ordering: ordered\n", ""}},
			[]want{{"sources.yaml", "KafkaSource", "fanout", "spec.ordering", "required"}}},

		// Durations and numbers.
		{"Go duration for backoffDelay",
			[]edit{{"sources.yaml", welcomeSrc, "backoffDelay: PT0.5S", "backoffDelay: 5s"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.backoffDelay", "not an ISO-8601 duration"}}},
		{"Go duration for timeout",
			[]edit{{"sources.yaml", notifySrc, "timeout: PT10S", "timeout: 10s"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.delivery.timeout", "not an ISO-8601 duration"}}},
		{"negative retry",
			[]edit{{"sources.yaml", welcomeSrc, "retry: 6", "retry: -1"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.retry", "must be >= 0"}}},
		{"delivery timeout longer than the Service's",
			[]edit{{"sources.yaml", notifySrc, "timeout: PT10S", "timeout: PT45S"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.delivery.timeout", "longer than Service notify"}}},
		{"timeoutSeconds above Knative's maximum",
			[]edit{{"services.yaml", "", "timeoutSeconds: 600", "timeoutSeconds: 3600"}},
			[]want{{"services.yaml", "Service", "inbox", "spec.template.spec.timeoutSeconds", "outside 1..600"}}},
		{"containerConcurrency above Knative's maximum",
			[]edit{{"services.yaml", "  name: web\n", "containerConcurrency: 0", "containerConcurrency: 5000"}},
			[]want{{"services.yaml", "Service", "web", "spec.template.spec.containerConcurrency", "outside 0..1000"}}},
		{"window below Knative's minimum",
			[]edit{{"services.yaml", "", `autoscaling.knative.dev/window: "10s"`, `autoscaling.knative.dev/window: "1s"`}},
			[]want{{"services.yaml", "Service", "relay", "spec.template.metadata.annotations." + AnnotationWindow, "outside"}}},
		{"misspelt autoscaling annotation",
			[]edit{{"services.yaml", "  name: post\n", "autoscaling.knative.dev/max-scale", "autoscaling.knative.dev/maxscale"}},
			[]want{
				{"services.yaml", "Service", "post", "spec.template.metadata.annotations.autoscaling.knative.dev/maxscale", "unknown autoscaling annotation"},
				{"services.yaml", "Service", "post", "spec.template.metadata.annotations." + AnnotationMaxScale, "required"},
			}},
		{"autoscaling annotation on the Service instead of the template",
			[]edit{{"services.yaml", "  name: web\n", "  labels:\n", "  annotations:\n    autoscaling.knative.dev/min-scale: \"1\"\n  labels:\n"}},
			[]want{{"services.yaml", "Service", "web", "metadata.annotations.autoscaling.knative.dev/min-scale", "belong on spec.template"}}},
		{"image not built by ko",
			[]edit{{"services.yaml", "", "image: ko://github.com/tidings-dev/tidings/web/server", "image: nginx"}},
			[]want{{"services.yaml", "Service", "web", "spec.template.spec.containers[0].image", "not a ko://"}}},
		{"missing liveness probe",
			[]edit{{"services.yaml", "  name: inbox\n", "          livenessProbe:\n            httpGet:\n              path: /livez\n            periodSeconds: 10\n            failureThreshold: 3\n", ""}},
			[]want{{"services.yaml", "Service", "inbox", "spec.template.spec.containers[0].livenessProbe", "required"}}},

		// References.
		{"dangling sink",
			[]edit{{"sources.yaml", welcomeSrc, "      kind: Service\n      name: welcome", "      kind: Service\n      name: welcom"}},
			[]want{{"sources.yaml", "KafkaSource", "welcome", "spec.sink.ref.name", `no Service "welcom"`}}},
		{"dangling dead-letter sink",
			[]edit{{"sources.yaml", notifySrc, "name: dlq-notify", "name: dlq-notif"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.delivery.deadLetterSink.ref.name", `no KafkaSink "dlq-notif"`}}},
		{"dead-letter sink at the wrong apiVersion",
			[]edit{{"sources.yaml", fanoutSrc, "apiVersion: eventing.knative.dev/v1alpha1", "apiVersion: eventing.knative.dev/v1"}},
			[]want{{"sources.yaml", "KafkaSource", "fanout", "spec.delivery.deadLetterSink.ref.apiVersion", "we ship KafkaSink dlq-fanout as eventing.knative.dev/v1alpha1"}}},
		{"missing dead-letter sink",
			[]edit{{"sources.yaml", fanoutSrc, "    deadLetterSink:\n      ref:\n        apiVersion: eventing.knative.dev/v1alpha1\n        kind: KafkaSink\n        name: dlq-fanout\n", ""}},
			[]want{{"sources.yaml", "KafkaSource", "fanout", "spec.delivery.deadLetterSink", "required"}}},
		{"sink that is not addressable",
			[]edit{{"pings.yaml", "", "      apiVersion: serving.knative.dev/v1\n      kind: Service\n      name: relay", "      apiVersion: sources.knative.dev/v1\n      kind: KafkaSource\n      name: welcome"}},
			[]want{{"pings.yaml", "PingSource", "outbox-relay", "spec.sink.ref", "not addressable"}}},
		{"dangling SinkBinding subject",
			[]edit{{"bindings.yaml", "name: fanout-sink", "    name: fanout\n", "    name: fan-out\n"}},
			[]want{{"bindings.yaml", "SinkBinding", "fanout-sink", "spec.subject.name", `no Service "fan-out"`}}},
		{"missing KafkaSink topic",
			[]edit{{"sinks.yaml", "name: notifications", "  topic: tidings.notifications\n", ""}},
			[]want{
				{"sinks.yaml", "KafkaSink", "notifications", "spec.topic", "required"},
				{"sources.yaml", "KafkaSource", "notify", "spec.topics[1]", `no KafkaSink we ship writes topic "tidings.notifications"`},
			}},
		{"source reads a topic nobody writes",
			[]edit{{"sources.yaml", fanoutSrc, "- tidings.posts", "- tidings.post"}},
			[]want{{"sources.yaml", "KafkaSource", "fanout", "spec.topics[0]", "no KafkaSink we ship writes topic"}}},
		{"dead-letter topic is the source's own topic",
			[]edit{{"sinks.yaml", "name: dlq-notify", "topic: tidings.dlq.notify", "topic: tidings.friends"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.delivery.deadLetterSink", "loop forever"}}},
		{"re-drive delivers letters to another Service",
			[]edit{{"sources.yaml", "name: redrive-notify", "      name: notify\n", "      name: fanout\n"}},
			[]want{{"sources.yaml", "KafkaSource", "redrive-notify", "spec.topics[0]", "holds KafkaSource notify's dead letters"}}},

		// Names and uniqueness.
		{"duplicate SinkBinding for one Service",
			[]edit{{"bindings.yaml", "name: post-sink", "    name: post\n", "    name: signup\n"}},
			[]want{{"bindings.yaml", "SinkBinding", "post-sink", "spec.subject", "already bound by SinkBinding signup-sink"}}},
		{"shared consumer group",
			[]edit{{"sources.yaml", notifySrc, "consumerGroup: tidings-notify", "consumerGroup: tidings-fanout"}},
			[]want{{"sources.yaml", "KafkaSource", "notify", "spec.consumerGroup", "also used by KafkaSource fanout"}}},
		{"name that is not DNS-1035",
			[]edit{{"pings.yaml", "", "name: outbox-relay", "name: Outbox_Relay"}},
			[]want{{"pings.yaml", "PingSource", "Outbox_Relay", "metadata.name", "not a DNS-1035 label"}}},
		{"duplicate object name",
			[]edit{{"sinks.yaml", "", "name: friends", "name: users"}},
			[]want{{"sinks.yaml", "KafkaSink", "users", "metadata.name", "also defined in sinks.yaml"}}},
		{"bad cron schedule",
			[]edit{{"pings.yaml", "", `schedule: "* * * * *"`, `schedule: "every minute"`}},
			[]want{{"pings.yaml", "PingSource", "outbox-relay", "spec.schedule", "every minute"}}},
		{"PingSource data that is not JSON",
			[]edit{{"pings.yaml", "", `data: '{"reason":"outbox sweep"}'`, `data: 'sweep'`}},
			[]want{{"pings.yaml", "PingSource", "outbox-relay", "spec.data", "not valid JSON"}}},
		{"missing namespace",
			[]edit{{"pings.yaml", "", "  namespace: tidings\n", ""}},
			[]want{{"pings.yaml", "PingSource", "outbox-relay", "metadata.namespace", "required"}}},
	}
	runBroken(t, cases)
}

// Check reports every problem at once, not just the first.
func TestCheckReportsAllProblems(t *testing.T) {
	dir := copyShipped(t)
	applyEdit(t, dir, edit{"sources.yaml", "", "backoffDelay: PT0.5S", "backoffDelay: 1s"})
	applyEdit(t, dir, edit{"sinks.yaml", "name: posts", "contentMode: binary", "contentMode: json"})
	applyEdit(t, dir, edit{"pings.yaml", "", `schedule: "* * * * *"`, `schedule: "61 * * * *"`})
	err := loadAndCheck(dir)
	assertProblem(t, err, want{"sources.yaml", "KafkaSource", "welcome", "spec.delivery.backoffDelay", "ISO-8601"})
	assertProblem(t, err, want{"sinks.yaml", "KafkaSink", "posts", "spec.contentMode", "binary or structured"})
	assertProblem(t, err, want{"pings.yaml", "PingSource", "outbox-relay", "spec.schedule", "61"})
	if n := len(Problems(err)); n != 3 {
		t.Errorf("%d problems, want exactly 3:\n%v", n, err)
	}
}

// Load reports unknown fields in every file and document, with the line of the
// document.
func TestLoadReportsAllDecodeProblems(t *testing.T) {
	dir := copyShipped(t)
	applyEdit(t, dir, edit{"sources.yaml", "name: notify\n  namespace: tidings\n  labels:", "  consumers: 1", "  consumer: 1"})
	applyEdit(t, dir, edit{"sinks.yaml", "", "  topic: tidings.users", "  topics: tidings.users"})
	_, err := Load(dir)
	assertProblem(t, err, want{"sources.yaml", "KafkaSource", "notify", "spec.consumer", "unknown field"})
	assertProblem(t, err, want{"sinks.yaml", "KafkaSink", "users", "spec.topics", "unknown field"})
	for _, p := range Problems(err) {
		if p.Line < 1 {
			t.Errorf("problem %v has no line", p)
		}
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	t.Run("duplicate key", func(t *testing.T) {
		dir := copyShipped(t)
		applyEdit(t, dir, edit{"sources.yaml", "", "    retry: 6\n", "    retry: 6\n    retry: 7\n"})
		_, err := Load(dir)
		// The parser's line number is the line in the file, not in the document.
		data, _ := os.ReadFile(filepath.Join(dir, "sources.yaml"))
		line := 1 + strings.Count(string(data[:strings.Index(string(data), "retry: 7")]), "\n")
		assertProblem(t, err, want{"sources.yaml", "KafkaSource", "welcome", "", fmt.Sprintf(`line %d: key "retry" already set`, line)})
	})
	t.Run("not a mapping", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("- a\n- b\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		assertProblem(t, err, want{"x.yaml", "", "#1", "", "must be a mapping"})
	})
	t.Run("empty directory", func(t *testing.T) {
		if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no manifests") {
			t.Errorf("Load(empty) = %v, want a no-manifests error", err)
		}
	})
	t.Run("kustomization is skipped", func(t *testing.T) {
		dir := copyShipped(t)
		if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err != nil {
			t.Fatalf("the shipped kustomization.yaml is missing: %v", err)
		}
		if _, err := Load(dir); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
}

func TestSplitDocuments(t *testing.T) {
	in := "# header comment\n---\na: 1\n--- # second\n\n# only a comment\n---\nb: 2\nc: |\n  ---not a separator\n---\n"
	docs := splitDocuments("f.yaml", []byte(in))
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2: %+v", len(docs), docs)
	}
	if string(docs[0].body) != "a: 1\n" || docs[0].line != 3 || docs[0].index != 1 {
		t.Errorf("first = %+v (%q)", docs[0], docs[0].body)
	}
	if !strings.HasPrefix(string(docs[1].body), "b: 2\n") || docs[1].line != 8 || docs[1].index != 2 {
		t.Errorf("second = %+v (%q)", docs[1], docs[1].body)
	}
	if got := string(docs[1].yaml()); got != strings.Repeat("\n", 7)+string(docs[1].body) {
		t.Errorf("second padded = %q", got)
	}
}

// brokenCase is one broken copy of the shipped manifests: the edits that
// break it and the problems the checks must report.
type brokenCase struct {
	name  string
	edits []edit
	wants []want
}

// runBroken applies each case's edits to a fresh copy of the shipped
// manifests and asserts every wanted problem is reported.
func runBroken(t *testing.T, cases []brokenCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyShipped(t)
			for _, e := range tc.edits {
				applyEdit(t, dir, e)
			}
			err := loadAndCheck(dir)
			for _, w := range tc.wants {
				assertProblem(t, err, w)
			}
		})
	}
}
