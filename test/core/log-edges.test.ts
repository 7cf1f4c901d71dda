/**
 * Break-it pass over the log seam (issue 11): what a listener and the sink see of a secret,
 * registered or only password-shaped, at any depth, in a list, an Error or a key.
 */
import { type LogEvent, Logger } from '../../src/core/log';

const PASSWORD = 'Br3ak-It-P@ss%&=+';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';

/** A logger whose lines and events are kept, and what it wrote of `fields`. */
function logged(fields: Record<string, unknown>, secrets: readonly string[] = []) {
  const lines: string[] = [];
  const events: LogEvent[] = [];
  const log = new Logger((line) => lines.push(line), { listeners: [(e) => events.push(e)] });
  for (const secret of secrets) log.addSecret(secret);
  log.info('qualys.call', fields as never);
  return { line: lines.join('\n'), event: JSON.stringify(events) };
}

describe('a registered secret', () => {
  test.each([
    ['at depth', { a: { b: { c: `x${PASSWORD}y` } } }],
    ['in a list', { list: ['ok', [PASSWORD]] }],
    ['in a key', { [`k-${PASSWORD}`]: 1 }],
    ['in an Error-shaped value', { error: { name: 'Error', message: `bad ${PASSWORD}` } }],
    ['JSON-encoded twice', { body: JSON.stringify(JSON.stringify({ p: PASSWORD })) }],
    ['URL-encoded', { url: `https://x/?p=${encodeURIComponent(PASSWORD)}` }],
  ])(
    'GIVEN the password registered and logged %s WHEN written THEN neither the line nor a listener holds it',
    (_w, fields) => {
      const { line, event } = logged(fields, [PASSWORD]);

      expect(line).not.toContain(PASSWORD);
      expect(event).not.toContain(PASSWORD);
      expect(() => JSON.parse(line)).not.toThrow();
    },
  );

  test('GIVEN a JWT never registered, in a list deep down WHEN written THEN it is masked in both', () => {
    const { line, event } = logged({ a: [{ b: [JWT] }] });

    expect(line).not.toContain(JWT);
    expect(event).not.toContain(JWT);
  });

  test('GIVEN an Error object as a field WHEN written THEN its message (which may hold the password) is not written as such', () => {
    const { line, event } = logged({ error: new Error(`password=${PASSWORD}`) }, []);

    expect(line).not.toContain(PASSWORD);
    expect(event).not.toContain(PASSWORD);
  });
});

describe('a password-named field whose value was never registered', () => {
  test.each([
    ['a string', { password: PASSWORD }],
    ['a number', { password: 12345678 }],
    ['a string at depth, any case', { a: [{ userPassword: PASSWORD }] }],
  ])('GIVEN %s WHEN written THEN the value is masked in the line and for listeners', (_w, fields) => {
    const { line, event } = logged(fields);

    expect(line).not.toMatch(/Br3ak-It|12345678/);
    expect(event).not.toMatch(/Br3ak-It|12345678/);
  });

  test.each([
    ['a list', { password: [PASSWORD] }],
    ['an object', { password: { value: PASSWORD } }],
  ])('GIVEN its value is %s WHEN written THEN the value is masked and the line stays JSON', (_w, fields) => {
    const { line, event } = logged(fields);

    expect(event).not.toContain('Br3ak-It');
    expect(line).not.toContain('Br3ak-It');
    expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('a listener that throws', () => {
  // A listener observes: what it throws is written as a line and never reaches the code that logged
  // (this used to be rethrown; see the handler's tests for what that did to a create).
  test('GIVEN a listener that throws WHEN an event is logged THEN the caller carries on, the other listeners hear it, and the failure is a line of its own', () => {
    const lines: string[] = [];
    const heard: LogEvent[] = [];
    const log = new Logger((line) => lines.push(line), {
      listeners: [
        () => {
          throw new Error(`listener broke on ${PASSWORD}`);
        },
        (e) => heard.push(e),
      ],
    });
    log.addSecret(PASSWORD);

    expect(() => log.info('qualys.call', {} as never)).not.toThrow();
    expect(heard.map((e) => e.event)).toEqual(['qualys.call']);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ event: 'qualys.call' }),
      expect.objectContaining({
        level: 'WARN',
        event: 'log.listener-failed',
        listenedEvent: 'qualys.call',
        error: 'listener broke on ***',
      }),
    ]);
  });

  test('GIVEN a listener that throws something other than an Error WHEN an event is logged THEN the caller carries on', () => {
    const lines: string[] = [];
    const log = new Logger((line) => lines.push(line), {
      listeners: [
        () => {
          throw 'a string';
        },
      ],
    });

    expect(() => log.warn('request.failed', { error: 'x' })).not.toThrow();
    expect(JSON.parse(lines[1])).toEqual(expect.objectContaining({ event: 'log.listener-failed', error: 'a string' }));
  });
});

describe('a secret inside a number', () => {
  test('GIVEN a registered secret made of digits WHEN a number field holds it THEN the number is masked and the line stays JSON', () => {
    const { line, event } = logged({ ms: 9_876_543_210 }, ['98765432']);

    expect(line).not.toContain('98765432');
    expect(event).not.toContain('98765432');
    expect(JSON.parse(line)).toEqual(expect.objectContaining({ ms: '***' }));
  });

  test('GIVEN a string that says password: "x" WHEN written THEN the line stays JSON and the value is masked', () => {
    const { line } = logged({ note: 'password: "hunter22"' });

    expect(() => JSON.parse(line)).not.toThrow();
    expect(line).not.toContain('hunter22');
  });
});
