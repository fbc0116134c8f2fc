package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// document is one YAML document of a multi-document file.
type document struct {
	file   string // base name
	index  int    // 1-based document number within the file
	line   int    // 1-based line of the document's first content (not comment) line
	body   []byte // the document's text
	offset int    // number of file lines before body
}

// splitDocuments cuts a file at "---" separator lines and drops documents that hold
// only comments and blank space.
func splitDocuments(file string, data []byte) []document {
	var docs []document
	lines := strings.SplitAfter(string(data), "\n")
	var cur strings.Builder
	start := 1
	index := 0
	flush := func() {
		body := cur.String()
		cur.Reset()
		first := firstContentLine(body)
		if first < 0 {
			return
		}
		index++
		docs = append(docs, document{file: file, index: index, line: start + first, body: []byte(body), offset: start - 1})
	}
	for i, l := range lines {
		if isSeparator(l) {
			flush()
			start = i + 2
			continue
		}
		cur.WriteString(l)
	}
	flush()
	return docs
}

func isSeparator(line string) bool {
	t := strings.TrimRight(line, " \t\r\n")
	if !strings.HasPrefix(t, "---") {
		return false
	}
	rest := strings.TrimSpace(t[3:])
	return rest == "" || strings.HasPrefix(rest, "#")
}

// firstContentLine is the 0-based index of the first line that is neither blank
// nor a comment, or -1 when there is none.
func firstContentLine(body string) int {
	for i, l := range strings.Split(body, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return i
		}
	}
	return -1
}

// yaml is the document padded with blank lines so that line numbers in YAML
// parser errors are line numbers in the file.
func (d document) yaml() []byte {
	return append([]byte(strings.Repeat("\n", d.offset)), d.body...)
}

// header is what every object has; it is read leniently to decide how to decode
// the rest strictly.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// readHeader converts the document to JSON (rejecting duplicate keys) and reads
// apiVersion, kind and metadata.name.
func readHeader(doc document) (header, []byte, error) {
	var h header
	j, err := yaml.YAMLToJSONStrict(doc.yaml())
	if err != nil {
		// Still name the object if a lenient read can find it.
		var lenient header
		if yaml.Unmarshal(doc.body, &lenient) == nil {
			h = lenient
		}
		return h, nil, fmt.Errorf("invalid YAML: %v", err)
	}
	var generic any
	if err := json.Unmarshal(j, &generic); err != nil {
		return h, nil, fmt.Errorf("invalid YAML: %v", err)
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return h, nil, fmt.Errorf("a manifest must be a mapping, not %T", generic)
	}
	h.APIVersion, _ = m["apiVersion"].(string)
	h.Kind, _ = m["kind"].(string)
	if meta, ok := m["metadata"].(map[string]any); ok {
		h.Metadata.Name, _ = meta["name"].(string)
	}
	return h, j, nil
}

// decodeStrict decodes one document into out (a pointer to a raw manifest
// struct). It reports every field the struct does not model, with its full path
// (the key comparison is exact, so "Retry" for "retry" is caught too), then
// decodes with sigs.k8s.io/yaml UnmarshalStrict, which also rejects duplicate
// keys and wrong value types.
func decodeStrict(doc document, j []byte, o origin, out any) error {
	var generic any
	if err := json.Unmarshal(j, &generic); err != nil {
		return o.errorf("", "invalid YAML: %v", err)
	}
	var problems []error
	for _, path := range unknownFields(generic, reflect.TypeOf(out), "") {
		problems = append(problems, o.errorf(path, "unknown field (typo, or a field this loader does not model)"))
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	if err := yaml.UnmarshalStrict(doc.yaml(), out); err != nil {
		// sigs.k8s.io/yaml flattens the JSON error into text; decode again with
		// encoding/json to recover the field path of a type mismatch.
		var typeErr *json.UnmarshalTypeError
		if jerr := json.Unmarshal(j, out); errors.As(jerr, &typeErr) {
			return o.errorf(typeErr.Field, "wrong type: got a JSON %s, want %s", typeErr.Value, typeErr.Type)
		} else if jerr != nil {
			return o.errorf("", "%v", jerr)
		}
		return o.errorf("", "%v", err)
	}
	return nil
}

// unknownFields walks decoded YAML alongside the Go type it will be decoded into
// and returns the dotted paths of keys the type has no field for.
func unknownFields(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // a type mismatch; the decoder reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				out = append(out, join(path, k))
				continue
			}
			out = append(out, unknownFields(m[k], ft, join(path, k))...)
		}
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, item := range items {
			out = append(out, unknownFields(item, t.Elem(), path+"["+strconv.Itoa(i)+"]")...)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, item := range m {
			out = append(out, unknownFields(item, t.Elem(), join(path, k))...)
		}
		sort.Strings(out)
	}
	return out
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// trimBOM drops a UTF-8 byte order mark, which some editors write.
func trimBOM(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
}
