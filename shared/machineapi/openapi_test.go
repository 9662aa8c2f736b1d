package machineapi_test

import (
	"encoding/json"
	"mime"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// checkOpenAPI holds the description to the answers a test saw: every
// operation was called; every answer's status and media type are
// documented for its operation; every answer has the required fields of
// its schema, and every property a schema documents appeared in some real
// answer (nested objects and array items too).
func checkOpenAPI(t *testing.T, raw []byte, seen []exchange) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi %v, want 3.1.0", doc["openapi"])
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		if r, ok := s["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
		}
		return s
	}
	type op struct{ path, method string }
	type route struct {
		re *regexp.Regexp
		op op
	}
	var routes []route
	called := map[op]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		for method := range item.(map[string]any) {
			o := op{path, strings.ToUpper(method)}
			routes = append(routes, route{re, o})
			called[o] = false
		}
	}
	// property paths documented (schema name + "." + property) and seen
	documented, present := map[string]bool{}, map[string]bool{}
	var walk func(name string, schema map[string]any, v any, where string)
	walk = func(name string, schema map[string]any, v any, where string) {
		schema = resolve(schema)
		props, _ := schema["properties"].(map[string]any)
		if items, ok := schema["items"].(map[string]any); ok {
			arr, ok := v.([]any)
			if !ok {
				t.Errorf("%s: %s is not an array", where, name)
				return
			}
			for i, it := range arr {
				walk(name+"[]", items, it, where+"["+strconv.Itoa(i)+"]")
			}
			return
		}
		if props == nil {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %s is not an object: %v", where, name, v)
			return
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				t.Errorf("%s: required field %s.%s missing", where, name, r)
			}
		}
		for p, ps := range props {
			key := name + "." + p
			documented[key] = true
			val, ok := obj[p]
			if !ok {
				continue
			}
			present[key] = true
			if val != nil {
				walk(key, ps.(map[string]any), val, where+"."+p)
			}
		}
		for k := range obj {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: field %s.%s is not documented", where, name, k)
			}
		}
	}
	for _, x := range seen {
		var o *op
		for _, r := range routes {
			if r.op.method == x.method && r.re.MatchString(x.path) {
				o = &r.op
				break
			}
		}
		if o == nil {
			t.Errorf("%s %s: no operation documented", x.method, x.path)
			continue
		}
		called[*o] = true
		where := x.method + " " + x.path + " " + strconv.Itoa(x.status)
		operation := doc["paths"].(map[string]any)[o.path].(map[string]any)[strings.ToLower(o.method)].(map[string]any)
		resp, ok := operation["responses"].(map[string]any)[strconv.Itoa(x.status)].(map[string]any)
		if !ok {
			t.Errorf("%s: status not documented", where)
			continue
		}
		content, _ := resp["content"].(map[string]any)
		got, _, _ := mime.ParseMediaType(x.contentType)
		var schema map[string]any
		for ct, c := range content {
			if want, _, _ := mime.ParseMediaType(ct); want == got {
				schema, _ = c.(map[string]any)["schema"].(map[string]any)
			}
		}
		if schema == nil {
			t.Errorf("%s: media type %q not documented", where, x.contentType)
			continue
		}
		if !strings.HasSuffix(got, "json") {
			continue
		}
		var v any
		if err := json.Unmarshal(x.body, &v); err != nil {
			t.Errorf("%s: body is not JSON: %v", where, err)
			continue
		}
		name := "(inline)"
		if r, ok := schema["$ref"].(string); ok {
			name = strings.TrimPrefix(r, "#/components/schemas/")
		}
		walk(name, schema, v, where)
	}
	for o, ok := range called {
		if !ok {
			t.Errorf("%s %s: documented, never called by the test", o.method, o.path)
		}
	}
	var missing []string
	for k := range documented {
		if !present[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("documented field %s appears in no real answer", k)
	}
}
