package server

// DevOutbox lets the black-box tests mount the dev outbox page on their own
// app (the route table mounts it only in dev mode).
var DevOutbox = devOutbox
