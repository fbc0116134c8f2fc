// Package apicontract is the HTTP API's contract: the OpenAPI 3.1 document
// beside this file, embedded, and a check that a response is one the document
// allows for its request. Tests run recorded traffic through Check (Checking
// wraps a test client's transport); function code never imports it.
//
// The document is validated with pb33f/libopenapi-validator, which reads
// OpenAPI 3.1 natively and checks bodies with a JSON Schema 2020-12 engine
// (type arrays, const, oneOf, formats): the dialect the document is written in.
package apicontract

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// Document is the OpenAPI document, as written.
//
//go:embed openapi.yaml
var Document []byte

// contract is the parsed document and its validator. The validator keeps
// caches, so calls to it are serialised.
type contract struct {
	model *v3.Document
	mu    sync.Mutex
	v     validator.Validator
}

var load = sync.OnceValues(func() (*contract, error) {
	doc, err := libopenapi.NewDocument(Document)
	if err != nil {
		return nil, fmt.Errorf("apicontract: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("apicontract: %w", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("apicontract: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("apicontract: the document breaks the OpenAPI schema: %w", joinValidation(verrs))
	}
	return &contract{model: &model.Model, v: v}, nil
})

// Check reports how res breaks the contract for req, or nil when the
// document allows it: the operation exists, the status is one it lists, and
// the content type, body and required headers are as declared. The request
// only picks the operation; its own validity is not checked, since tests send
// bad requests on purpose. Check reads res.Body and puts back a copy.
func Check(req *http.Request, res *http.Response) error {
	c, err := load()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok, errs := c.v.ValidateHttpResponse(req, res); !ok {
		return fmt.Errorf("%s %s → %d breaks the API contract: %w", req.Method, req.URL.Path, res.StatusCode, joinValidation(errs))
	}
	return nil
}

func joinValidation(errs []*verrors.ValidationError) error {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  ")
		b.WriteString(e.Error()) // names the reason, the field and the document's line
	}
	return errors.New(b.String())
}

// Limit returns a numeric keyword (maxLength, minLength, maximum, minimum,
// maxItems, minItems, default) of a schema under components/schemas, so Go
// code and tests read limits from the one place they are declared. schema
// may name a property of an object schema after a dot: "UserSearch.users".
func Limit(schema, keyword string) (int64, error) {
	c, err := load()
	if err != nil {
		return 0, err
	}
	s, err := c.schema(schema)
	if err != nil {
		return 0, err
	}
	var n *int64
	switch keyword {
	case "maxLength":
		n = s.MaxLength
	case "minLength":
		n = s.MinLength
	case "maxItems":
		n = s.MaxItems
	case "minItems":
		n = s.MinItems
	case "maximum":
		n = wholeNumber(s.Maximum)
	case "minimum":
		n = wholeNumber(s.Minimum)
	case "default":
		var v int64
		if s.Default != nil && s.Default.Decode(&v) == nil {
			n = &v
		}
	default:
		return 0, fmt.Errorf("apicontract: %q is not a numeric limit keyword", keyword)
	}
	if n == nil {
		return 0, fmt.Errorf("apicontract: schema %s declares no %s", schema, keyword)
	}
	return *n, nil
}

func (c *contract) schema(name string) (*base.Schema, error) {
	parts := strings.Split(name, ".")
	proxy := c.model.Components.Schemas.GetOrZero(parts[0])
	for i, p := range parts[1:] {
		if proxy == nil {
			break
		}
		s := proxy.Schema()
		if s == nil || s.Properties == nil {
			return nil, fmt.Errorf("apicontract: schema %s has no properties", strings.Join(parts[:i+1], "."))
		}
		proxy = s.Properties.GetOrZero(p)
	}
	if proxy == nil || proxy.Schema() == nil {
		return nil, fmt.Errorf("apicontract: no schema %s in components/schemas", name)
	}
	return proxy.Schema(), nil
}

func wholeNumber(f *float64) *int64 {
	if f == nil {
		return nil
	}
	n := int64(*f)
	return &n
}

// Declared is a limit as Go code declares it: Value must equal the
// document's Keyword of Schema (see Limit).
type Declared struct {
	Schema, Keyword string
	Value           int64
}

// CheckLimits reports every Declared whose value differs from the
// document's, so a function's test can pin its constants to the contract.
func CheckLimits(ds ...Declared) error {
	var errs []error
	for _, d := range ds {
		want, err := Limit(d.Schema, d.Keyword)
		switch {
		case err != nil:
			errs = append(errs, err)
		case want != d.Value:
			errs = append(errs, fmt.Errorf("the contract's %s %s is %d, the code's %d", d.Schema, d.Keyword, want, d.Value))
		}
	}
	return errors.Join(errs...)
}
