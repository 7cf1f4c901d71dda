/**
 * The checklist runner: checks as data with declared prerequisites. A check whose
 * prerequisite failed or was skipped is reported as skipped, naming it, and never run.
 */
import { type CheckDefinition, type CheckResult, Checklist, fail, pass, skipped } from '../../src/cli/checklist';
import { Logger } from '../../src/core/log';
import { CREDENTIALS_PLACEHOLDER, keepPlaceholders } from '../../src/cli/context';

function checklist(): { list: Checklist; shown: CheckResult[] } {
  const shown: CheckResult[] = [];
  return { list: new Checklist({ progress: () => {}, result: (r) => shown.push(r) }), shown };
}

describe('prerequisites', () => {
  test('GIVEN a failed check WHEN a check needs it THEN that check is skipped, names the failed one, and its run is never called', async () => {
    const { list } = checklist();
    const run = jest.fn(async () => pass('read'));
    await list.runAll([
      { id: 'aws-identity', title: 'AWS credentials', run: async () => fail('no credentials', 'configure them') },
      {
        id: 'secret',
        title: 'credentials secret',
        needs: ['aws-identity'],
        withoutNeeds: { 'aws-identity': 'read with those credentials' },
        run,
      },
    ]);
    expect(run).not.toHaveBeenCalled();
    expect(list.results[1]).toMatchObject({
      id: 'secret',
      status: 'skip',
      value: 'needs "AWS credentials" (aws-identity), which failed: read with those credentials',
      details: { needs: 'aws-identity', needsStatus: 'fail' },
    });
    expect(list.failed).toBe(true);
  });

  test('GIVEN a chain A <- B <- C WHEN A fails THEN B and C are both skipped (C names B, which was skipped), and skipped is not failed', async () => {
    const { list } = checklist();
    await list.runAll([
      { id: 'a', title: 'A', run: async () => skipped('not applicable here') },
      { id: 'b', title: 'B', needs: ['a'], run: async () => pass('b') },
      { id: 'c', title: 'C', needs: ['b'], run: async () => pass('c') },
      { id: 'd', title: 'D', run: async () => pass('d') },
    ]);
    expect(list.results.map((r) => `${r.id}:${r.status}`)).toEqual(['a:skip', 'b:skip', 'c:skip', 'd:pass']);
    expect(list.results[2].value).toBe('needs "B" (b), which was skipped');
    expect(list.failed).toBe(false);
    expect(list.counts()).toEqual({ pass: 1, fail: 0, warn: 0, skip: 3 });
  });

  test('GIVEN a prerequisite that warned WHEN a check needs it THEN the check runs (a warning is not a failure)', async () => {
    const { list } = checklist();
    await list.runAll([
      {
        id: 'stack',
        title: 'deployed stack',
        run: async () => ({ status: 'warn', value: 'in progress', remedy: 'wait' }),
      },
      { id: 'data', title: 'data', needs: ['stack'], run: async () => pass('fresh') },
    ]);
    expect(list.results[1].status).toBe('pass');
  });

  test('GIVEN a check that throws WHEN run THEN it is a failure with its remedyOnError, and the next check still runs', async () => {
    const { list } = checklist();
    await list.runAll([
      {
        id: 'x',
        title: 'X',
        remedyOnError: 'do this',
        run: async () => {
          throw new Error('boom');
        },
      },
      { id: 'y', title: 'Y', run: async () => pass('y') },
    ]);
    expect(list.results[0]).toMatchObject({ status: 'fail', value: 'boom', remedy: 'do this' });
    expect(list.results[1].status).toBe('pass');
  });

  test.each<[string, CheckDefinition[], RegExp]>([
    [
      'an unknown prerequisite',
      [{ id: 'a', title: 'A', needs: ['nope'], run: async () => pass('') }],
      /check "a" needs "nope", which is not declared before it/,
    ],
    [
      'a prerequisite declared after it',
      [
        { id: 'a', title: 'A', needs: ['b'], run: async () => pass('') },
        { id: 'b', title: 'B', run: async () => pass('') },
      ],
      /check "a" needs "b"/,
    ],
    [
      'a repeated id',
      [
        { id: 'a', title: 'A', run: async () => pass('') },
        { id: 'a', title: 'A again', run: async () => pass('') },
      ],
      /check "a" is declared twice/,
    ],
  ])('GIVEN %s WHEN the list runs THEN it is refused before any check runs', async (_label, checks, message) => {
    const { list, shown } = checklist();
    await expect(list.runAll(checks)).rejects.toThrow(message);
    expect(shown).toEqual([]);
  });
});

describe('redaction keeps the pasteable placeholders, and only them', () => {
  test('GIVEN the real password registered and a password field in the text WHEN redacted THEN both are masked, and the placeholder template is kept as written', () => {
    const log = new Logger(() => {});
    log.addSecret('Real-Pa55word-9');
    const redact = keepPlaceholders((t) => log.redact(t));
    const text = `echoed Real-Pa55word-9 and {"password":"Other-Secret-1"}; paste '${CREDENTIALS_PLACEHOLDER}'`;
    const out = redact(text);
    expect(out).not.toContain('Real-Pa55word-9');
    expect(out).not.toContain('Other-Secret-1');
    expect(out).toContain(`paste '${CREDENTIALS_PLACEHOLDER}'`);
    // Also inside a JSON document, where the quotes are escaped.
    const doc = redact(JSON.stringify({ remedy: text }));
    expect(JSON.parse(doc).remedy).toContain(CREDENTIALS_PLACEHOLDER);
    expect(doc).not.toContain('Real-Pa55word-9');
  });

  test('GIVEN a password that is shaped like the template but differs WHEN redacted THEN it is masked', () => {
    const log = new Logger(() => {});
    const redact = keepPlaceholders((t) => log.redact(t));
    expect(redact('{"username":"<your-qualys-username>","password":"hunter22"}')).toContain('"password":"***"');
  });
});
