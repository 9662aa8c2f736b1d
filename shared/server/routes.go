package server

import (
	"io/fs"
	"log/slog"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gofiber/fiber/v3/middleware/static"

	"github.com/radpass/radpass/patient"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/machineapi"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/account"
	"github.com/radpass/radpass/staff/admin"
	"github.com/radpass/radpass/staff/print"
	"github.com/radpass/radpass/staff/staffweb"
	"github.com/radpass/radpass/staff/statusfw"
	"github.com/radpass/radpass/staff/studylist"
	staticfiles "github.com/radpass/radpass/static"
)

// MachineBodyLimit bounds one STOW-RS or report request. The body is read
// only after the API token is checked, streamed part by part to storage.
const MachineBodyLimit = 64 << 20

// Body limits of the page routes (the limit column of the table).
const (
	form   = web.FormBodyLimit   // any page or form
	signIn = web.SignInBodyLimit // sign-in forms: a name, a password, a code
	// A logo may be up to 2 MiB (shared/departments): its form a little more,
	// so the page can say "too large" in words up to 3 MiB.
	logo = 3 << 20
)

// handlers are what the route table mounts.
type handlers struct {
	staff     *staffweb.Deps // the staff guards
	account   *account.Handlers
	studies   *studylist.Handlers
	print     *print.Handlers
	status    *statusfw.Handlers
	admin     *admin.Handlers
	patient   *patient.Handlers
	machine   *dicomweb.Handler
	accesses  *machineapi.Handler
	links     *dicomweb.Reader // DICOMweb per access (viewer links)
	csrf      fiber.Handler
	language  fiber.Handler
	readiness fiber.Handler
	drain     fiber.Handler    // several instances: a draining instance sends new GETs elsewhere
	devOutbox fiber.Handler    // nil: not mounted (outside dev mode)
	metrics   *metrics.Metrics // nil: metrics off
	log       *slog.Logger
	secure    bool // HTTPS: HSTS, __Host- cookies
}

// routes mounts the app-wide middleware and every URL of the app, in the
// order Fiber tries them. Each page row names its method, path, body limit,
// guards and handler: the body is read up to the limit (413 above it) before
// anything reads it, then a form route checks its CSRF token and form text.
// Ids are :name<int>; handlers read them with web.ParamID.
func routes(app *fiber.App, h handlers) {
	if h.metrics != nil {
		app.Use(h.metrics.Middleware()) // first: it sees a panic's 500 too
	}
	app.Use(recover.New())
	app.Use(web.RequestID()) // made here; a client's X-Request-Id is only logged beside it
	app.Use(web.AccessLog(h.log))
	app.Use(web.SecurityHeaders(h.secure))
	app.Use(web.RefuseEncodedBodies)
	app.Use(h.drain) // several instances (docs/scaleout.md)

	staticFS, _ := fs.Sub(staticfiles.FS, ".")
	app.Get("/static*", static.New("", static.Config{FS: web.AssetFS(staticFS), MaxAge: 3600, Compress: true})) // assets only, never embed.go
	app.Get("/healthz", func(c fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", h.readiness)

	// Machine API: bearer tokens, no session, no CSRF; each handler streams
	// its body through web.LimitedBody (MachineBodyLimit) after the token.
	app.Post("/dicomweb/studies", h.machine.Stow)
	app.Post("/dicomweb/studies/:study", h.machine.Stow)
	app.Post("/api/v1/studies/:study/report", h.machine.Report)

	// RIS API (shared/machineapi): accesses created and managed by a
	// department token with the access scope; JSON bodies up to
	// machineapi.BodyLimit, read after the token; problem details on errors.
	app.Get("/api/v1/openapi.json", machineapi.OpenAPI)
	app.Post("/api/v1/accesses", h.accesses.Create)
	app.Get("/api/v1/accesses/:id", h.accesses.Show)
	app.Get("/api/v1/accesses/:id/letter", h.accesses.Letter)
	app.Post("/api/v1/accesses/:id/revoke", h.accesses.Revoke)
	app.Post("/api/v1/accesses/:id/extend", h.accesses.Extend)
	// DICOMweb per access (shared/dicomweb): a viewer link's token in the
	// path or as a bearer token, read only; no session, no cookie, no CSRF;
	// CORS for RADPASS_DICOMWEB_ORIGINS only.
	app.Options(dicomweb.LinkBase+"/*", h.links.Preflight)
	app.Get(dicomweb.LinkBase+"/*", h.links.Serve)

	// Pages: the user and language come first so that a refusal (CSRF, 413)
	// is a page in the user's language with their header (LoadUser only ever
	// ends sessions). Every page gets its CSRF token here; forms check it in
	// their own chain.
	app.Use(h.staff.LoadUser)
	app.Use(web.Language())
	app.Use(web.OnSafe(h.csrf))

	r := table{app: app, csrf: h.csrf}
	var (
		none    []fiber.Handler
		noStore = []fiber.Handler{web.NoStorePages}
		// Signed-in staff; nothing they see is stored by a browser or proxy.
		staff = []fiber.Handler{h.staff.RequireUser, web.NoStorePages}
		// Pages another site may not load (patient data, audit rows).
		staffSame = []fiber.Handler{h.staff.RequireUser, web.NoStorePages, web.SameOriginOnly}
		// Department admins and the service desk (403 for plain staff).
		admin = []fiber.Handler{h.staff.RequireUser, staffweb.RequireAdmin, web.NoStorePages}
		// The patient's code page: the birth date matched, the code is due.
		codeDue = []fiber.Handler{h.patient.RequireStage(patient.StageCode)}
		// A signed-in patient (RequireStage marks every answer no-store).
		patientIn   = []fiber.Handler{h.patient.RequireStage(patient.StageIn)}
		patientSame = []fiber.Handler{h.patient.RequireStage(patient.StageIn), web.SameOriginOnly}
		// The patient, or a doctor signed in through a share (narrowed to it).
		viewerIn   = []fiber.Handler{h.patient.RequireViewer()}
		viewerSame = []fiber.Handler{h.patient.RequireViewer(), web.SameOriginOnly}
		// A doctor who opened a share's link; the code is due.
		shareCode = []fiber.Handler{h.patient.RequireShareCode()}
	)

	// Patient (patient/)
	r.get("/", form, noStore, h.patient.Home)
	r.post("/p/signin", signIn, noStore, h.patient.SignIn)
	r.post("/p/signout", signIn, none, h.patient.SignOut)
	r.get("/p/code", signIn, codeDue, h.patient.CodeForm)
	r.post("/p/code", signIn, codeDue, h.patient.CheckCode)
	r.post("/p/code/resend", signIn, codeDue, h.patient.Resend)
	r.get("/p/", form, viewerIn, h.patient.Studies)
	r.get("/p/studies/:id<int>", form, viewerSame, h.patient.Study)
	r.get("/p/studies/:id<int>/report", form, viewerSame, h.patient.Report)
	r.get("/p/studies/:id<int>/report.pdf", form, viewerSame, h.patient.ReportPDF)
	r.get("/p/images/:id<int>", form, viewerSame, h.patient.Image)
	r.get("/p/download", form, viewerSame, h.patient.Download)
	// Viewer links of the access (patient/links.go)
	r.post("/p/links", form, patientSame, h.patient.LinkCreate)
	r.post("/p/links/:id<int>/revoke", form, patientSame, h.patient.LinkRevoke)
	r.post("/p/studies/:id<int>/ohif", form, patientSame, h.patient.OpenOHIF)

	// Share with a doctor (patient/share_*.go): the patient's shares, then
	// the doctor's link (/s/<token>: never logged, web.LogPath), code and
	// resend; signed in, the doctor uses the viewer rows above.
	r.get("/p/shares", form, patientIn, h.patient.Shares)
	r.get("/p/shares/new", form, patientIn, h.patient.ShareNew)
	r.post("/p/shares", form, patientIn, h.patient.ShareCreate)
	r.post("/p/shares/:sid<int>/revoke", form, patientIn, h.patient.ShareRevoke)
	r.get("/s/code", signIn, shareCode, h.patient.ShareCodeForm)
	r.post("/s/code", signIn, shareCode, h.patient.ShareCheck)
	r.post("/s/send", signIn, shareCode, h.patient.ShareResend)
	r.get("/s/:token", form, noStore, h.patient.ShareLink)
	r.post("/s/:token", signIn, noStore, h.patient.ShareStart)
	r.get("/staff/status/:id<int>/shares", form, staff, h.status.Shares)
	r.post("/staff/status/:id<int>/shares/:sid<int>/revoke", form, staff, h.status.ShareRevoke)

	// Issue 17, "Who opened my images": an access's activity and its
	// new-device alert (patient/activity.go)
	r.get("/p/activity", form, patientSame, h.patient.Activity)
	r.post("/p/activity/alert", form, patientSame, h.patient.SetAlert)

	r.post("/language", form, none, h.language)

	// Staff sign-in, sign-out and the password change after a reset, which
	// comes before the sign-in completes (staff/account)
	r.get("/staff/signin", signIn, noStore, h.account.SignInForm)
	r.post("/staff/signin", signIn, noStore, h.account.SignIn)
	r.post("/staff/signout", form, noStore, h.account.SignOut)
	r.get("/staff/password", form, noStore, h.account.PasswordForm)
	r.post("/staff/password", form, noStore, h.account.PasswordChange)

	// Study list and study detail (staff/studylist)
	r.get("/staff/", form, staff, h.studies.List)
	r.get("/staff/studies/:id<int>", form, staffSame, h.studies.Study)
	r.get("/staff/studies/:id<int>/report", form, staffSame, h.studies.ReportPDF)
	r.get("/staff/studies/:id<int>/access.csv", form, staffSame, h.studies.AccessCSV)
	r.get("/staff/images/:id<int>", form, staffSame, h.studies.Image)
	r.get("/staff/instances/:id<int>/dicom", form, staffSame, h.studies.InstanceDownload)
	r.post("/staff/studies/:id<int>/labels", form, staff, h.studies.LabelAdd)
	r.post("/staff/studies/:id<int>/labels/:sl<int>/remove", form, staff, h.studies.LabelRemove)

	// PRINT REFERENCE NUMBER (staff/print); :id is the bucket
	r.get("/staff/print", form, staff, h.print.Form)
	r.post("/staff/print", form, staff, h.print.Submit)
	r.get("/staff/print/:id<int>", form, staff, h.print.Confirm)
	r.get("/staff/print/:id<int>/letter", form, staffSame, h.print.Letter) // writes an audit row

	// Status Forwarding (staff/statusfw); :id is the bucket, each handler
	// checks who may manage it
	r.get("/staff/status", form, staff, h.status.List)
	r.get("/staff/status/:id<int>/row", form, staff, h.status.Row)
	r.get("/staff/status/:id<int>/unlock", form, staff, h.status.UnlockForm)
	r.post("/staff/status/:id<int>/unlock", form, staff, h.status.Unlock)
	r.get("/staff/status/:id<int>/extend", form, staff, h.status.ExtendForm)
	r.post("/staff/status/:id<int>/extend", form, staff, h.status.Extend)
	r.get("/staff/status/:id<int>/remove", form, staff, h.status.RemoveStudyForm)
	r.post("/staff/status/:id<int>/remove", form, staff, h.status.RemoveStudy)
	r.get("/staff/status/:id<int>/revoke", form, staff, h.status.RevokeForm)
	r.post("/staff/status/:id<int>/revoke", form, staff, h.status.Revoke)

	// Administration (staff/admin): another department's objects are 404
	r.get("/staff/users", form, admin, h.admin.UsersList)
	r.post("/staff/users", form, admin, h.admin.UserCreate)
	r.get("/staff/users/:id<int>", form, admin, h.admin.UserShow)
	r.post("/staff/users/:id<int>/disable", form, admin, h.admin.UserDisable)
	r.post("/staff/users/:id<int>/enable", form, admin, h.admin.UserEnable)
	r.post("/staff/users/:id<int>/reset", form, admin, h.admin.UserReset)
	r.get("/staff/groups", form, admin, h.admin.GroupsList)
	r.post("/staff/groups", form, admin, h.admin.GroupCreate)
	r.get("/staff/groups/:id<int>", form, admin, h.admin.GroupShow)
	r.post("/staff/groups/:id<int>/rename", form, admin, h.admin.GroupRename)
	r.post("/staff/groups/:id<int>/delete", form, admin, h.admin.GroupDelete)
	r.post("/staff/groups/:id<int>/members", form, admin, h.admin.GroupMemberAdd)
	r.post("/staff/groups/:id<int>/members/:uid<int>/remove", form, admin, h.admin.GroupMemberRemove)
	r.get("/staff/labels", form, admin, h.admin.LabelsList)
	r.post("/staff/labels", form, admin, h.admin.LabelCreate)
	r.post("/staff/labels/:id<int>", form, admin, h.admin.LabelUpdate)
	r.post("/staff/labels/:id<int>/delete", form, admin, h.admin.LabelDelete)
	r.get("/staff/settings", form, admin, h.admin.SettingsForm)
	r.post("/staff/settings", form, admin, h.admin.SaveSettings)
	r.get("/staff/settings/logo", form, admin, h.admin.SettingsLogoImage)
	r.post("/staff/settings/logo", logo, admin, h.admin.SettingsLogo)
	r.post("/staff/settings/logo/delete", form, admin, h.admin.SettingsLogoDelete)
	r.get("/staff/audit", form, admin, h.admin.AuditTrail)
	r.get("/staff/audit.csv", form, admin, h.admin.AuditCSV)

	if h.devOutbox != nil {
		r.get("/dev/outbox", form, noStore, h.devOutbox) // dev mode only
	}

	// Anything else: a form's limit and checks, the sign-in page for the
	// staff area and the patient's start page for theirs, then a translated 404.
	app.Use(web.LimitBody(form), web.OnUnsafe(h.csrf), web.RefuseBadFormText)
	app.Use("/staff", h.staff.RequireUser)
	app.Use("/p/code", h.patient.RequireStage(patient.StageCode))
	app.Use("/p", h.patient.RequireStage(patient.StageIn))
	app.Use(func(c fiber.Ctx) error { metrics.Unmatched(c); return fiber.ErrNotFound })
}

// table mounts the rows of the route table.
type table struct {
	app  *fiber.App
	csrf fiber.Handler
}

// get mounts a page: its body limit, its guards, its handler.
func (t table) get(path string, limit int64, guards []fiber.Handler, h fiber.Handler) {
	t.app.Get(path, web.LimitBody(limit), chain(guards, h)...)
}

// post mounts a form: its body limit, then the CSRF check (which may read its
// token from the body) and the form text check (invalid UTF-8 or NUL: 422,
// never stored), its guards, its handler.
func (t table) post(path string, limit int64, guards []fiber.Handler, h fiber.Handler) {
	t.app.Post(path, web.LimitBody(limit), append([]any{t.csrf, web.RefuseBadFormText}, chain(guards, h)...)...)
}

func chain(guards []fiber.Handler, h fiber.Handler) []any {
	out := make([]any, 0, len(guards)+1)
	for _, g := range guards {
		out = append(out, g)
	}
	return append(out, h)
}
