// Runs QIDO-RS and WADO-RS with the dicomweb-client npm package against a
// viewer link (?base=), cross-origin as any web viewer does, and writes
// what it got as JSON into #result (data-done set when finished).
(async () => {
  const p = new URLSearchParams(location.search);
  const client = new DICOMwebClient.api.DICOMwebClient({ url: p.get('base') });
  const out = {};
  const v = (d, t) => d[t] && d[t].Value && d[t].Value[0];
  try {
    const studies = await client.searchForStudies({ queryParams: { PatientID: p.get('pid') } });
    out.studies = studies.map((s) => v(s, '0020000D'));
    const study = out.studies[0];
    const series = await client.searchForSeries({ studyInstanceUID: study });
    out.series = series.length;
    const ct = series.find((s) => v(s, '00080060') === 'CT');
    const se = v(ct, '0020000E');
    const insts = await client.searchForInstances({ studyInstanceUID: study, seriesInstanceUID: se });
    out.instances = insts.length;
    const sop = v(insts[0], '00080018');
    out.sop = sop;
    const meta = await client.retrieveStudyMetadata({ studyInstanceUID: study });
    out.metadata = meta.length;
    const ids = { studyInstanceUID: study, seriesInstanceUID: se, sopInstanceUID: sop };
    const inst = await client.retrieveInstance(ids);
    out.instanceBytes = inst.byteLength;
    out.instanceDICM = String.fromCharCode(...new Uint8Array(inst, 128, 4));
    const frames = await client.retrieveInstanceFrames({ ...ids, frameNumbers: [2] });
    out.frames = frames.length;
    out.frameBytes = frames[0].byteLength;
    const rendered = await client.retrieveInstanceRendered({ ...ids, mediaTypes: [{ mediaType: 'image/jpeg' }] });
    // The package answers an array of parts here, one image.
    const rb = new Uint8Array(Array.isArray(rendered) ? rendered[0] : rendered);
    out.renderedJPEG = rb[0] === 0xff && rb[1] === 0xd8;
    if (!out.renderedJPEG) out.renderedHead = Array.from(rb.slice(0, 8)).join(',') + ' ' + typeof rendered + ' ' + rb.length;
  } catch (e) {
    out.error = String((e && (e.message || e)) || e) + ' ' + (e && e.status);
  }
  const r = document.getElementById('result');
  r.textContent = JSON.stringify(out);
  r.setAttribute('data-done', '1');
})();
