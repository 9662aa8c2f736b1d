package seed

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
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
}

// StudiesPerPatient is the average number of studies a bulk patient gets.
const StudiesPerPatient = 2.5

// Bulk writes n fictitious studies (and about n/2.5 patients) for benchmarks,
// streamed with COPY rather than row-by-row inserts: a million studies take
// well under a minute here. It spreads them over the existing departments, or
// creates two when there are none, so it runs on top of the demo data or on an
// empty database. Every run uses its own patient ID prefix, so it can be
// repeated. progress (may be nil) gets a line per phase.
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
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithApplicationName("radpass-bulk"),
		pgdriver.WithReadTimeout(30*time.Minute), pgdriver.WithWriteTimeout(30*time.Minute)))
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

	fmt.Fprintf(progress, "bulk: %d patients (prefix %s) over %d departments\n", npat, prefix, len(depts))
	rng := mrand.New(mrand.NewPCG(uint64(start.UnixNano()), 7))
	if _, err := copyRows(ctx, conn, `COPY patients (department_id, patient_id, family_name, given_name, birth_date, sex) FROM STDIN`,
		func(w *bufio.Writer) error {
			for i := 0; i < npat; i++ {
				d := depts[i%len(depts)]
				birth := `\N`
				if i%41 != 7 { // a few without a birth date, as real data has
					birth = time.Date(1930+rng.IntN(90), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				}
				fmt.Fprintf(w, "%d\t%s%07d\t%s\t%s\t%s\t%s\n", d.ID, prefix, i, copyText(bulkFamilyName(rng)),
					copyText(bulkGivenName(rng)), birth, []string{"F", "M", "O"}[rng.IntN(3)])
			}
			return nil
		}); err != nil {
		return res, fmt.Errorf("copy patients: %w", err)
	}
	res.Patients = npat

	// The patients' ids, in patient ID order (= the order written).
	var pids []int64
	err = conn.NewSelect().Table("patients").Column("id").
		Where("patient_id LIKE ?", prefix+"%").OrderExpr("patient_id").Scan(ctx, &pids)
	if err != nil {
		return res, err
	}
	if len(pids) != npat {
		return res, fmt.Errorf("bulk: read back %d patients, wrote %d", len(pids), npat)
	}

	fmt.Fprintf(progress, "bulk: %d studies\n", n)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	uidRoot := fmt.Sprintf("2.25.%d", start.UnixNano())
	// The search column is filled by the studies_search_fill trigger from the patient row.
	if _, err := copyRows(ctx, conn, `COPY studies (department_id, patient_id, study_uid, study_date, study_time, accession, description,
		modalities, referring_physician, num_series, num_instances, report_status, report_text) FROM STDIN`,
		func(w *bufio.Writer) error {
			for i := 0; i < n; i++ {
				p := rng.IntN(npat)
				if i < npat {
					p = i // every patient has at least one study
				}
				d := depts[p%len(depts)]
				e := exams[rng.IntN(len(exams))]
				date := `\N`
				if i%997 != 3 {
					date = today.AddDate(0, 0, -rng.IntN(3650)).Format(time.DateOnly)
				}
				series := 1 + rng.IntN(5)
				status, text := "none", ""
				switch rng.IntN(3) {
				case 0:
					status, text = "final", reportLines[rng.IntN(len(reportLines))]
				case 1:
					status, text = "preliminary", reportLines[rng.IntN(len(reportLines))]
				}
				fmt.Fprintf(w, "%d\t%d\t%s.%d\t%s\t%02d%02d00\t%s%08d\t%s\t{%s}\tDr. %s\t%d\t%d\t%s\t%s\n",
					d.ID, pids[p], uidRoot, i, date, 7+rng.IntN(11), rng.IntN(60), prefix, i, copyText(e.desc), e.mod,
					copyText(familyNames[rng.IntN(len(familyNames))]), series, series*(1+rng.IntN(150)), status, copyText(text))
			}
			return nil
		}); err != nil {
		return res, fmt.Errorf("copy studies: %w", err)
	}
	res.Studies = n
	fmt.Fprintln(progress, "bulk: vacuum, analyze")
	if err := vacuumAllVisible(ctx, conn, 5*time.Second); err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	return res, nil
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

// copyText escapes a value for COPY's text format.
func copyText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
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
