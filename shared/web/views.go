package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
)

// Views is the set of html/template files every page is rendered from,
// parsed once at start; it implements fiber.Views. Each file is a template
// named by its path without ".html" ("staff/studylist", "partials/flash"),
// so any file can include any other.
//
// Rendering mutates nothing shared, so any number of pages render at once.
// The gofiber html engine it replaces did not: it set a per-render
// "embed" function on the shared template set (and held one lock around
// every page with a layout to make that safe), and -race caught its first
// renders racing. Here a page with a layout is rendered in two passes: the
// content into Page.Body, then the layout, which writes {{.Body}}.
type Views struct {
	set *template.Template
}

// LoadViews parses every .html file of fsys with funcs.
func LoadViews(fsys fs.FS, funcs template.FuncMap) (*Views, error) {
	set := template.New("").Funcs(funcs)
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		if _, err := set.New(strings.TrimSuffix(path, ".html")).Parse(string(b)); err != nil {
			return fmt.Errorf("views: %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Views{set: set}, nil
}

// Load is part of fiber.Views: the views are parsed by LoadViews.
func (v *Views) Load() error { return nil }

// Render writes template name with binding, inside the first of layouts
// when one is given (binding must then be a *Page).
func (v *Views) Render(w io.Writer, name string, binding any, layouts ...string) error {
	layout := ""
	if len(layouts) > 0 {
		layout = layouts[0]
	}
	if layout == "" {
		return v.set.ExecuteTemplate(w, name, binding)
	}
	p, ok := binding.(*Page)
	if !ok {
		return errors.New("views: a layout needs a *web.Page")
	}
	var body bytes.Buffer
	if err := v.set.ExecuteTemplate(&body, name, p); err != nil {
		return err
	}
	p.Body = template.HTML(body.String()) // already escaped by its own template
	return v.set.ExecuteTemplate(w, layout, p)
}
