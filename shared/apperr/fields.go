package apperr

import "errors"

// Fields lists the problems of a form, each bound to its field (a request
// type's Check returns it; the handler puts each on its field).
type Fields []*Error

func (v Fields) Error() string {
	if len(v) == 0 {
		return "invalid"
	}
	return "invalid: " + v[0].Field + ": " + v[0].Key
}

// Add puts a problem on field.
func (v *Fields) Add(field, key string, args ...any) {
	*v = append(*v, Field(field, key, args...))
}

// Has reports whether field already has a problem.
func (v Fields) Has(field string) bool {
	for _, e := range v {
		if e.Field == field {
			return true
		}
	}
	return false
}

// AsFields returns the field problems in err, if it is a Fields.
func AsFields(err error) (Fields, bool) {
	var v Fields
	ok := errors.As(err, &v)
	return v, ok
}
