package users

import (
	"bytes"
	"context"
	"encoding/gob"
	"time"

	"github.com/uptrace/bun"
)

// SessionUserKey is the session value holding the signed-in staff user's id
// (the staff session middleware reads the same key).
const SessionUserKey = "uid"

func init() {
	// The types shared/web registers for session values: decoding a session
	// needs them known here too (registering the same name twice is fine).
	gob.Register(time.Time{})
	gob.Register([]int64{})
	gob.Register([]string{})
	gob.Register(map[string]string{})
}

// EndSessions deletes the server-side staff sessions of user id, within the
// caller's transaction, and returns how many ended. The sessions table keeps
// only the gob-encoded values, so each staff session is read and matched on
// its user id (staff sessions are few: one per signed-in browser). A session
// that cannot be decoded is left alone: the staff session middleware still
// refuses it at its next request if the account is disabled.
func EndSessions(ctx context.Context, tx bun.IDB, id int64) (int, error) {
	var rows []struct {
		IDHash []byte `bun:"id_hash"`
		Data   []byte `bun:"data"`
	}
	if err := tx.NewRaw(`SELECT id_hash, data FROM sessions WHERE kind = 'staff' FOR UPDATE`).Scan(ctx, &rows); err != nil {
		return 0, err
	}
	var ended [][]byte
	for _, r := range rows {
		var v map[any]any
		if err := gob.NewDecoder(bytes.NewReader(r.Data)).Decode(&v); err != nil {
			continue
		}
		if uid, ok := v[SessionUserKey].(int64); ok && uid == id {
			ended = append(ended, r.IDHash)
		}
	}
	if len(ended) == 0 {
		return 0, nil
	}
	if _, err := tx.NewRaw(`DELETE FROM sessions WHERE id_hash IN (?)`, bun.In(ended)).Exec(ctx); err != nil {
		return 0, err
	}
	return len(ended), nil
}
