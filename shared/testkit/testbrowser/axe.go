package testbrowser

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript is axe-core from the project's node_modules (npm, pinned in
// package.json; make test installs it).
func axeScript() (string, error) {
	axeOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			axeErr = err
			return
		}
		for {
			b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
			if err == nil {
				axeSource = string(b)
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				axeErr = err
				return
			}
			dir = parent
		}
	})
	return axeSource, axeErr
}

// axeResult is what the page reports back: each violation with its nodes.
type axeResult struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// Axe runs axe-core in the page for WCAG 2.2 A and AA and fails the test,
// naming the state, for every violation.
func (p Page) Axe(state string) {
	p.TB.Helper()
	for _, v := range p.AxeViolations(state) {
		p.TB.Errorf("accessibility (%s): %s", state, v)
	}
}

// AxeViolations runs axe-core and returns one line per violation.
func (p Page) AxeViolations(state string) []string {
	p.TB.Helper()
	src, err := axeScript()
	if err != nil {
		p.TB.Fatalf("axe-core not found (npm ci installs it): %v", err)
	}
	if _, err := chromedp.Run(p.Ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		p.TB.Fatalf("inject axe-core: %v", err)
	}
	const run = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)}))))`
	res, err := chromedp.Run(p.Ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		p.TB.Fatalf("run axe-core on %s: %v", state, err)
	}
	var vs []axeResult
	if err := json.Unmarshal([]byte(res), &vs); err != nil {
		p.TB.Fatalf("axe-core result: %v", err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.ID+" — "+v.Help+"\n  "+strings.Join(v.Nodes, "\n  "))
	}
	return out
}
