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
  // Documented: what a listener throws reaches the code that logged (see the handler's tests for what that does there).
  test('GIVEN a listener that throws WHEN an event is logged THEN the line was written first and the error reaches the caller', () => {
    const lines: string[] = [];
    const log = new Logger((line) => lines.push(line), {
      listeners: [
        () => {
          throw new Error('listener broke');
        },
      ],
    });

    expect(() => log.info('qualys.call', {} as never)).toThrow(/listener broke/);
    expect(lines).toHaveLength(1);
  });
});
