package deid

// Action is one of the de-identification actions of PS3.15 Table E.1-1.
type Action byte

// The actions of PS3.15 E.1.1 this package applies; resolveAction (table.go)
// says which one each code of the Basic Profile column becomes.
const (
	Keep       Action = 'K' // retain
	Remove     Action = 'X' // remove the attribute
	Empty      Action = 'Z' // zero length value
	Dummy      Action = 'D' // non-zero dummy value consistent with the VR
	ReplaceUID Action = 'U' // replace with a new UID, consistently (UIDMap)
	Recurse    Action = 'R' // keep the sequence, de-identify its items (X/Z/U* on a sequence)
)
