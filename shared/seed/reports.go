package seed

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// Report texts per exam: findings, then one of the conclusions.
var (
	findings = map[string]string{
		"CT thorax with contrast":   "Lungs clear, no consolidation or effusion. No pulmonary embolism to the segmental level. Mediastinal and hilar lymph nodes not enlarged. Heart of normal size.",
		"CT brain without contrast": "No intracranial haemorrhage, no mass effect, no midline shift. Ventricles and sulci appropriate for age. Grey-white matter differentiation preserved.",
		"CT abdomen/pelvis":         "Liver, spleen, pancreas and adrenal glands unremarkable. Both kidneys enhance symmetrically, no hydronephrosis. No free fluid, no free air. Bowel loops of normal calibre.",
		"MRI knee left":             "Menisci intact. Cruciate and collateral ligaments intact. Small joint effusion. Cartilage preserved in all compartments. No bone marrow oedema.",
		"MRI lumbar spine":          "Normal alignment of the lumbar spine. Mild disc degeneration at L4-L5 without nerve root compression. Conus medullaris ends at L1, normal signal.",
		"MRI prostate":              "Prostate volume 38 ml. No focal lesion suspicious for significant cancer (PI-RADS 2). Seminal vesicles and lymph nodes unremarkable.",
		"X-ray chest PA/LAT":        "Heart size normal. Lungs clear. No pleural effusion, no pneumothorax. Bony thorax intact.",
		"Mammography bilateral":     "Scattered fibroglandular densities (ACR B). No mass, no suspicious calcifications, no architectural distortion in either breast. BI-RADS 1.",
		"Ultrasound abdomen":        "Liver of normal size with homogeneous echotexture. Gallbladder without stones. Both kidneys of normal size without hydronephrosis. No ascites.",
		"PET-CT whole body":         "No hypermetabolic lesion suspicious for active disease. Physiological uptake in brain, heart, kidneys and bladder.",
		"X-ray hand right":          "No fracture or dislocation. Joint spaces preserved. Normal bone mineralisation.",
	}
	conclusions = []string{
		"Conclusion: no acute abnormality. Normal study for age.",
		"Conclusion: small non-specific finding; follow-up in 6 months is suggested.",
		"Conclusion: findings discussed with the referring physician.",
	}
)

// reportText is a study's report, signed by the department.
func reportText(p *studyPlan, k int) string {
	status := "FINAL REPORT"
	if p.report == ingest.StatusPreliminary {
		status = "PRELIMINARY REPORT (not yet validated by a second reader)"
	}
	return fmt.Sprintf("%s\n\nExamination: %s, %s\nReferring physician: %s\n\nFindings: %s\n\n%s\n\n%s — demo data, not a real report.",
		status, p.desc, p.date.Format("2 January 2006"), p.referring, findings[p.desc], conclusions[k%len(conclusions)], p.dept.Name)
}

// attachReports stores a report for every study planned with one, through
// the report upload path: most as text, every tenth as a PDF, and every
// seventh with an embargo of a few days, so the patient side shows "not
// available yet" for those.
func attachReports(ctx context.Context, db *bun.DB, st storage.Store, plans []*studyPlan, res *Result) error {
	now := time.Now().UTC()
	k := 0
	for i, p := range plans {
		if p.report == "none" {
			continue
		}
		k++
		rep := ingest.Report{Status: p.report}
		text := reportText(p, k)
		if k%10 == 3 {
			rep.PDF = bytes.NewReader(reportPDF(text))
		} else {
			rep.Text = text
		}
		if p.embargoed(i) {
			at := now.Add(time.Duration(3+k%5) * 24 * time.Hour).Truncate(time.Hour)
			rep.AvailableAt = &at
		}
		s, err := ingest.AttachReport(ctx, db, st, p.dept.ID, p.uid, rep)
		if err != nil {
			return fmt.Errorf("seed: report of %s: %w", p.accession, err)
		}
		p.studyID = s.ID
		res.Reports++
	}
	return nil
}

// embargoed: one report in seven is held back (never the first patients').
func (p *studyPlan) embargoed(i int) bool {
	return p.report != "none" && i%7 == 4
}

// reportPDF is a one-page PDF of text (Helvetica, WinAnsi: the demo texts
// are Latin-1), written by hand: the demo needs no PDF library.
func reportPDF(text string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 11 Tf 56 780 Td 15 TL\n")
	for _, line := range wrap(text, 88) {
		content.WriteString("(")
		for _, r := range line {
			switch {
			case r == '(' || r == ')' || r == '\\':
				content.WriteByte('\\')
				content.WriteRune(r)
			case r == '—':
				content.WriteString("\\227")
			case r < 0x80:
				content.WriteRune(r)
			case r < 0x100:
				fmt.Fprintf(&content, "\\%03o", r)
			default:
				content.WriteByte('?')
			}
		}
		content.WriteString(") Tj T*\n")
	}
	content.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// wrap breaks text into lines of at most width runes (paragraphs kept).
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len([]rune(line))+1+len([]rune(w)) > width {
				out = append(out, line)
				line = w
				continue
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}
