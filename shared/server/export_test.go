package server

// RegisterDevOutbox lets the black-box tests mount the dev outbox page on
// their own app (server.New mounts it only in dev mode).
var RegisterDevOutbox = registerDevOutbox
