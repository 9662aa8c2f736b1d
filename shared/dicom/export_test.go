package dicom

// Waiting is the number of callers waiting for a shared render of r (tests
// use it to start a render only once every caller has joined).
func Waiting(r *Renderer) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.flights {
		n += f.waiters
	}
	return n
}

// Flights is the number of shared renders of r in progress that a new
// caller would join.
func Flights(r *Renderer) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.flights)
}
