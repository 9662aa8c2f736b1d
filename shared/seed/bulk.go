package seed

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/radpass/radpass/shared/database"
)

// BulkResult says what Bulk wrote.
type BulkResult struct {
	Departments int
	Patients    int
	Studies     int
	Prefix      string // patient IDs of this run start with it
	Took        time.Duration
	// DatabaseBytes is the database's size after the load.
	DatabaseBytes int64
}

// StudiesPerPatient is the average number of studies a bulk patient gets.
const StudiesPerPatient = 2.5

// Bulk writes n fictitious studies (and about n/2.5 patients) for benchmarks,
// streamed with COPY rather than row-by-row inserts. It spreads them over the
// existing departments, or creates two when there are none, so it runs on top
// of the demo data or on an empty database. Every run uses its own patient ID
// prefix, so it can be repeated. progress (may be nil) gets a line per phase.
//
// A load at least as large as the studies already there (10 million studies
// into an empty archive) runs in one transaction that drops the secondary
// indexes of patients and studies, copies, and builds them again: one sorted
// build per index is several times cheaper than 10 million random insertions
// into each (the trigram index above all). The search text is computed here
// from names folded by PostgreSQL's own rp_fold, so the per-row trigger has
// nothing to look up; where the role may (a superuser, as in dev and test
// clusters) the load also skips the per-row triggers and foreign-key checks
// (session_replication_role = replica): its rows reference departments and
// patients it has just read or written.
//
// It opens its own connection to dsn: the application pool's 10-second I/O
// timeout is too short for COPY on a busy machine, where PostgreSQL can stall
// for seconds merging the trigram index's pending list.
func Bulk(ctx context.Context, dsn string, n int, progress io.Writer) (BulkResult, error) {
	start := time.Now()
	if progress == nil {
		progress = io.Discard
	}
	var res BulkResult
	if n <= 0 {
		return res, nil
	}
	// A URL naming several hosts (target_session_attrs) works as for serve.
	connector, err := database.Connector(dsn, pgdriver.WithApplicationName("radpass-bulk"),
		pgdriver.WithReadTimeout(2*time.Hour), pgdriver.WithWriteTimeout(2*time.Hour))
	if err != nil {
		return res, err
	}
	sqldb := sql.OpenDB(connector)
	db := bun.NewDB(sqldb, pgdialect.New())
	defer db.Close()
	depts, err := bulkDepartments(ctx, db)
	if err != nil {
		return res, err
	}
	prefix, err := bulkPrefix(ctx, db)
	if err != nil {
		return res, err
	}
	res.Departments, res.Prefix = len(depts), prefix
	npat := int(float64(n) / StudiesPerPatient)
	if npat < 1 {
		npat = 1
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	// Commit the COPYs durably even where synchronous_commit is off (test
	// clusters): VACUUM cannot mark rows of a commit not yet flushed all
	// visible, and the study list's index-only walks need that.
	if _, err := conn.ExecContext(ctx, `SET synchronous_commit = on`); err != nil {
		return res, err
	}
	var existing int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM studies`).Scan(&existing); err != nil {
		return res, err
	}
	rebuild := n >= existing

	rng := mrand.New(mrand.NewPCG(uint64(start.UnixNano()), 7))
	family, given := make([]string, npat), make([]string, npat)
	for i := range family {
		family[i], given[i] = bulkFamilyName(rng), bulkGivenName(rng)
	}
	fold, err := folded(ctx, conn, family, given, []string{prefix})
	if err != nil {
		return res, err
	}

	// One transaction on the connection (COPY needs the bare connection):
	// a failed load leaves the tables and their indexes as they were.
	tx := conn
	if _, err := tx.ExecContext(ctx, `BEGIN`); err != nil {
		return res, err
	}
	committed := false
	defer func() {
		if !committed {
			tx.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	if _, err := tx.ExecContext(ctx, `SAVEPOINT replica`); err != nil {
		return res, err
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		// Not a superuser: the triggers run (the search trigger keeps the
		// text given here) and the foreign keys are checked.
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT replica`); err != nil {
			return res, err
		}
	}
	var indexes []string
	if rebuild {
		if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
			return res, err
		}
		if indexes, err = dropSecondaryIndexes(ctx, tx); err != nil {
			return res, err
		}
	}

	phase := time.Now()
	fmt.Fprintf(progress, "bulk: %d patients (prefix %s) over %d departments\n", npat, prefix, len(depts))
	var line []byte
	if _, err := copyRows(ctx, tx, `COPY patients (department_id, patient_id, family_name, given_name, birth_date, sex) FROM STDIN`,
		func(w *bufio.Writer) error {
			for i := 0; i < npat; i++ {
				line = strconv.AppendInt(line[:0], depts[i%len(depts)].ID, 10)
				line = appendID(append(append(line, '\t'), prefix...), i, 7)
				line = append(appendCopyText(append(appendCopyText(append(line, '\t'), family[i]), '\t'), given[i]), '\t')
				if i%41 != 7 { // a few without a birth date, as real data has
					line = time.Date(1930+rng.IntN(90), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).AppendFormat(line, time.DateOnly)
				} else {
					line = append(line, `\N`...)
				}
				line = append(append(append(line, '\t'), "FMO"[rng.IntN(3)]), '\n')
				if _, err := w.Write(line); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
		return res, fmt.Errorf("copy patients: %w", err)
	}
	res.Patients = npat

	// The patients' ids, in patient ID order (= the order written).
	pids := make([]int64, 0, npat)
	rows, err := tx.QueryContext(ctx, `SELECT id FROM patients WHERE patient_id LIKE ? ORDER BY patient_id`, prefix+"%")
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return res, err
		}
		pids = append(pids, id)
	}
	if err := rows.Close(); err != nil {
		return res, err
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	if len(pids) != npat {
		return res, fmt.Errorf("bulk: read back %d patients, wrote %d", len(pids), npat)
	}
	fmt.Fprintf(progress, "bulk: patients written in %s\n", time.Since(phase).Round(100*time.Millisecond))

	phase = time.Now()
	fmt.Fprintf(progress, "bulk: %d studies\n", n)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	uidRoot := fmt.Sprintf("2.25.%d", start.UnixNano())
	// search is what the studies_search_fill trigger would compute:
	// rp_fold(family || ' ' || given || ' ' || middle || ' ' || patient ID)
	// || ' ' || rp_fold(accession), the middle name empty.
	lowPrefix := fold[prefix]
	if _, err := copyRows(ctx, tx, `COPY studies (department_id, patient_id, study_uid, study_date, study_time, accession, description,
		modalities, referring_physician, num_series, num_instances, report_status, report_text, search) FROM STDIN`,
		func(w *bufio.Writer) error {
			for i := 0; i < n; i++ {
				p := rng.IntN(npat)
				if i < npat {
					p = i // every patient has at least one study
				}
				d := depts[p%len(depts)]
				e := exams[rng.IntN(len(exams))]
				line = strconv.AppendInt(line[:0], d.ID, 10)
				line = strconv.AppendInt(append(line, '\t'), pids[p], 10)
				line = strconv.AppendInt(append(append(append(line, '\t'), uidRoot...), '.'), int64(i), 10)
				line = append(line, '\t')
				if i%997 != 3 {
					line = today.AddDate(0, 0, -rng.IntN(3650)).AppendFormat(line, time.DateOnly)
				} else {
					line = append(line, `\N`...)
				}
				line = append(appendID(appendID(append(line, '\t'), 7+rng.IntN(11), 2), rng.IntN(60), 2), "00\t"...)
				line = appendID(append(line, prefix...), i, 8)
				line = append(appendCopyText(append(line, '\t'), e.desc), "\t{"...)
				line = append(append(line, e.mod...), "}\tDr. "...)
				line = appendCopyText(line, familyNames[rng.IntN(len(familyNames))])
				series := 1 + rng.IntN(5)
				line = strconv.AppendInt(append(line, '\t'), int64(series), 10)
				line = strconv.AppendInt(append(line, '\t'), int64(series*(1+rng.IntN(150))), 10)
				switch rng.IntN(3) {
				case 0:
					line = appendCopyText(append(line, "\tfinal\t"...), reportLines[rng.IntN(len(reportLines))])
				case 1:
					line = appendCopyText(append(line, "\tpreliminary\t"...), reportLines[rng.IntN(len(reportLines))])
				default:
					line = append(line, "\tnone\t"...)
				}
				line = appendCopyText(append(line, '\t'), fold[family[p]])
				line = appendCopyText(append(line, ' '), fold[given[p]])
				line = appendID(append(append(line, "  "...), lowPrefix...), p, 7)
				line = append(appendID(append(append(line, ' '), lowPrefix...), i, 8), '\n')
				if _, err := w.Write(line); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
		return res, fmt.Errorf("copy studies: %w", err)
	}
	res.Studies = n
	// The study list's dictionary of search words (search_words, kept by a
	// trigger the replica role skips): the parts of the folded names and of
	// the IDs written above (the prefix, then digits only).
	texts := []string{lowPrefix + "0"}
	for _, f := range fold {
		texts = append(texts, f)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO search_words (word, in_id)
		SELECT r.part, bool_or(r.in_id) FROM unnest(?::text[]) AS t, rp_search_parts(t) AS r GROUP BY r.part
		ON CONFLICT (word) DO UPDATE SET in_id = true WHERE excluded.in_id AND NOT search_words.in_id`, pgdialect.Array(texts)); err != nil {
		return res, fmt.Errorf("bulk: search words: %w", err)
	}
	fmt.Fprintf(progress, "bulk: studies written in %s\n", time.Since(phase).Round(100*time.Millisecond))
	if rebuild {
		phase = time.Now()
		fmt.Fprintf(progress, "bulk: building %d indexes\n", len(indexes))
		for _, def := range indexes {
			t0 := time.Now()
			if _, err := tx.ExecContext(ctx, def); err != nil {
				return res, fmt.Errorf("bulk: %s: %w", def, err)
			}
			fmt.Fprintf(progress, "bulk:   %s (%s)\n", def, time.Since(t0).Round(100*time.Millisecond))
		}
		fmt.Fprintf(progress, "bulk: indexes built in %s\n", time.Since(phase).Round(100*time.Millisecond))
	}
	if _, err := tx.ExecContext(ctx, `COMMIT`); err != nil {
		return res, err
	}
	committed = true
	phase = time.Now()
	fmt.Fprintln(progress, "bulk: vacuum, analyze")
	if err := vacuumAllVisible(ctx, conn, 5*time.Second); err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "bulk: vacuumed in %s\n", time.Since(phase).Round(100*time.Millisecond))
	if err := conn.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&res.DatabaseBytes); err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// folded maps each name in lists to rp_fold(name), computed by PostgreSQL.
func folded(ctx context.Context, conn bun.Conn, lists ...[]string) (map[string]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, l := range lists {
		for _, name := range l {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT x, rp_fold(x) FROM unnest(?::text[]) AS x`, pgdialect.Array(names))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[string]string, len(names))
	for rows.Next() {
		var name, f string
		if err := rows.Scan(&name, &f); err != nil {
			return nil, err
		}
		m[name] = f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(m) != len(names) {
		return nil, fmt.Errorf("bulk: folded %d of %d names", len(m), len(names))
	}
	return m, nil
}

// dropSecondaryIndexes drops the indexes of patients and studies that back
// no constraint and returns the statements that build them again.
func dropSecondaryIndexes(ctx context.Context, tx bun.Conn) ([]string, error) {
	var defs, names []string
	rows, err := tx.QueryContext(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid IN ('patients'::regclass, 'studies'::regclass)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indrelid, i.indexrelid`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// appendID appends i in decimal, zero-padded to width digits.
func appendID(b []byte, i, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(i), 10)
	for k := len(s); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// vacuumAllVisible vacuums the bulk tables until their visibility maps cover
// every page, so the study list's walks are index-only at once rather than
// after autovacuum comes by. One VACUUM is not always enough: a transaction
// that began before the COPY committed (an autovacuum ANALYZE of the table
// just loaded, a backend starting up) holds the horizon back, and VACUUM then
// leaves the new pages not all-visible. Such transactions are short, so it
// tries again for up to patience; a database with a long-running transaction
// keeps the load as it is (still correct, only slower to read).
func vacuumAllVisible(ctx context.Context, conn bun.Conn, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	query := `VACUUM (ANALYZE) patients, studies`
	for {
		if _, err := conn.ExecContext(ctx, query); err != nil {
			return err
		}
		var missing int
		// VACUUM stores relallvisible as it finds the pages.
		err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_class
			WHERE oid IN ('patients'::regclass, 'studies'::regclass) AND relallvisible < relpages`).Scan(&missing)
		if err != nil || missing == 0 || time.Now().After(deadline) {
			return err
		}
		query = `VACUUM patients, studies` // the statistics are already fresh
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// copyRows streams what write produces into a COPY ... FROM STDIN.
func copyRows(ctx context.Context, conn bun.Conn, query string, write func(*bufio.Writer) error) (int64, error) {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		err := write(w)
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	r, err := pgdriver.CopyFrom(ctx, conn, pr, query)
	pr.Close() // stops the writer if COPY failed half-way
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// appendCopyText appends s escaped for COPY's text format.
func appendCopyText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

func bulkDepartments(ctx context.Context, db *bun.DB) ([]*database.Department, error) {
	var depts []*database.Department
	if err := db.NewSelect().Model(&depts).Order("id").Scan(ctx); err != nil {
		return nil, err
	}
	if len(depts) > 0 {
		return depts, nil
	}
	depts = []*database.Department{
		{Code: "BULK-EAST", Name: "Radiology East (bulk)", Address: "2 Station Square, 3000 Easton", Phone: "+32 3 000 00 03", Contact: "the radiology desk", DefaultValidityN: 1, DefaultValidityUnit: "month"},
		{Code: "BULK-WEST", Name: "Radiologie Ouest (bulk)", Address: "3 rue du Port, 7000 Ouestville", Phone: "+32 65 00 00 04", Contact: "l'accueil de radiologie", DefaultValidityN: 1, DefaultValidityUnit: "month"},
	}
	if _, err := db.NewInsert().Model(&depts).Exec(ctx); err != nil {
		return nil, err
	}
	return depts, nil
}

// bulkPrefix picks three letters no patient ID starts with yet.
func bulkPrefix(ctx context.Context, db *bun.DB) (string, error) {
	for try := 0; try < 20; try++ {
		b := make([]byte, 3)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = 'A' + b[i]%26
		}
		p := string(b)
		exists, err := db.NewSelect().Table("patients").Where("patient_id LIKE ?", p+"%").Exists(ctx)
		if err != nil {
			return "", err
		}
		if !exists {
			return p, nil
		}
	}
	return "", fmt.Errorf("bulk: no free patient ID prefix")
}

// Bulk names: the demo names (accents included) for one patient in ten, the
// rest built from syllables so that a full family name matches tens to a few
// hundred patients per million studies, as in a real archive.
var (
	nameStarts = []string{"Van", "De", "Ber", "Mar", "Kow", "Sch", "Le", "Dam", "Hof", "Gar", "Ros", "Wil", "Jan", "Pet", "Kla", "Mor",
		"Lam", "Bru", "Vos", "Ste", "Hen", "Cla", "Dup", "Fon", "Gil", "Hol", "Ker", "Lin", "Mey", "Nij"}
	nameMiddles = []string{"a", "e", "i", "o", "u", "ee", "oo", "ie", "au", "ei", "er", "an", "en", "in", "ol"}
	nameEnds    = []string{"ssens", "mans", "ters", "ski", "rt", "ck", "lle", "nd", "rs", "ghe", "ne", "ri", "dt", "ux", "mont", "berg",
		"stra", "kens", "lier", "ez", "ova", "sen", "bach", "ier", "ot"}
	bulkGiven = []string{"Emma", "Lucas", "Olivia", "Liam", "Louise", "Arthur", "Mila", "Noah", "Elena", "Jules", "Julia", "Adam",
		"Lena", "Victor", "Nina", "Finn", "Sara", "Milan", "Hanna", "Leon", "Eva", "Daan", "Clara", "Hugo", "Zoé", "Maël", "Björn", "Ágnes"}
)

func bulkFamilyName(rng *mrand.Rand) string {
	if rng.IntN(10) == 0 {
		return familyNames[rng.IntN(len(familyNames))]
	}
	return nameStarts[rng.IntN(len(nameStarts))] + nameMiddles[rng.IntN(len(nameMiddles))] + nameEnds[rng.IntN(len(nameEnds))]
}

func bulkGivenName(rng *mrand.Rand) string {
	if rng.IntN(10) == 0 {
		return givenNames[rng.IntN(len(givenNames))]
	}
	return bulkGiven[rng.IntN(len(bulkGiven))]
}
