/** The posture generator: deterministic, in the guide's shape, and its truth agrees with its own files. */
import { gunzipSync } from 'node:zlib';
import { FILE_SHAPES, generatePostureFiles, generateVmRecords, PostureGenerator } from '../../sim/findings-generator';

/** The files' records, parsed here without the normalizer: whole-file JSON, or one value per line / concatenation. */
function parseFile(body: Buffer, gzip: boolean): any[] {
  const text = (gzip ? gunzipSync(body) : body).toString('utf8');
  if (text.startsWith('[')) return JSON.parse(text);
  // Concatenated objects: split where one top-level object ends, counting braces outside strings.
  const values: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
  }
  return values;
}

describe('the posture generator', () => {
  test('GIVEN the same seed WHEN generated twice THEN the same bytes; another seed THEN others', () => {
    const a = generatePostureFiles({ seed: 1, hosts: 10, files: 5 });
    const b = generatePostureFiles({ seed: 1, hosts: 10, files: 5 });
    const c = generatePostureFiles({ seed: 2, hosts: 10, files: 5 });
    expect(a.files.map((f) => f.body.toString('base64'))).toEqual(b.files.map((f) => f.body.toString('base64')));
    expect(a.files[1].body.equals(c.files[1].body)).toBe(false);
  });

  test('GIVEN files WHEN generated THEN every shape, gzip and not, and their records agree with the truth', () => {
    const { files, truth } = generatePostureFiles({ seed: 4, hosts: 40, files: 10 });
    expect(new Set(files.map((f) => f.shape))).toEqual(new Set(FILE_SHAPES));
    expect(new Set(files.map((f) => f.gzip))).toEqual(new Set([true, false]));
    const postures: any[] = [];
    for (const file of files) {
      const records = parseFile(file.body, file.gzip);
      expect(records).toHaveLength(file.records);
      for (const host of records)
        for (const policy of host.policy ?? []) for (const p of policy.posture) postures.push({ host, policy, p });
    }
    expect(postures).toHaveLength(truth.length);
    postures.forEach(({ host, policy, p }, i) => {
      expect([Number(host.hostId), policy.id, Number(p.id), p.controlId, p.posture]).toEqual([
        truth[i].hostId,
        truth[i].policyId,
        truth[i].postureId,
        truth[i].controlId,
        truth[i].posture,
      ]);
    });
  });

  test('GIVEN many hosts WHEN generated THEN the guide look: repeated statements, long \\u003d runs, the three postures, the quirks', () => {
    const generator = new PostureGenerator({ seed: 11, quirkRate: 0.05 });
    const hosts = Array.from({ length: 50 }, () => generator.nextHost());
    const text = JSON.stringify(hosts.map((h) => h.record));
    const statements = hosts.flatMap((h) =>
      ((h.record.policy as any[]) ?? []).flatMap((p) => p.posture.map((x: any) => x.controlStatement)),
    );
    expect(new Set(statements).size).toBeLessThan(statements.length / 5);
    expect(text).toMatch(/(\\\\u003d){10}/);
    expect(text).toContain('"complianceLastScanData"');
    expect(text).toContain('"complianceLastScanDate"');
    expect(text).toContain('expectedValues \\"');
    expect(text).toMatch(/T\d\d:\d\d:\d\d\d"/);
    const truth = hosts.flatMap((h) => h.truth);
    expect(new Set(truth.map((t) => t.posture))).toEqual(new Set(['Passed', 'Failed', 'Error']));
    expect(truth.some((t) => !t.evidenceParses)).toBe(true);
    expect(hosts.some((h) => h.truth.length === 0)).toBe(true);
  });

  test('GIVEN each VM shape WHEN generated THEN the truth has one entry per finding the records hold', () => {
    for (const shape of ['flat-camel', 'flat-upper', 'host-detections', 'wrapped'] as const) {
      const { records, truth } = generateVmRecords({ seed: 3, shape, hosts: 4 });
      const count =
        shape === 'wrapped'
          ? (records[0] as any).findings.length
          : shape === 'host-detections'
            ? records.reduce((n: number, r: any) => n + r.detections.length, 0)
            : records.length;
      expect(count).toBe(truth.length);
    }
  });
});
