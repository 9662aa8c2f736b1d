package staff

import (
	"encoding/json"
	"slices"
)

func slicesSort(s []string) { slices.Sort(s) }

// jsonText renders one details value compactly.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
