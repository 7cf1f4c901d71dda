import { LOG_EVENTS } from '../../src/core/contract';
import { memoryLogger } from '../support/lambda-fakes';

describe('Logger redaction', () => {
  test('GIVEN a registered secret WHEN it appears plain, JSON-escaped or URL-encoded THEN it is never written', () => {
    const { log, lines } = memoryLogger();
    const password = 'p@ss"w/rd&1';
    log.addSecret(password);
    log.info('request.failed', {
      error: `plain ${password}`,
      nested: { value: password },
      form: `password=${encodeURIComponent(password)}`,
    });
    const out = lines.join('\n');
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
    expect(out).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(out).toContain('***');
  });

  test('GIVEN something shaped like a JWT WHEN logged THEN it is redacted even if never registered', () => {
    const { log, lines } = memoryLogger();
    log.warn('qualys.retrying', { auth: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' });
    expect(lines[0]).not.toMatch(/eyJhbGciOiJIUzI1NiJ9/);
  });

  test('GIVEN a password field WHEN logged THEN its value is redacted', () => {
    const { log, lines } = memoryLogger();
    log.error('request.failed', { body: 'username=u&password=hunter22&token=true' });
    expect(lines[0]).not.toContain('hunter22');
    expect(lines[0]).toContain('username=u');
  });

  test('GIVEN fields WHEN logged THEN each line is one JSON object with level, event name and its message', () => {
    const { log, lines } = memoryLogger();
    log.info('validate.done', { n: 1 });
    expect(JSON.parse(lines[0])).toEqual({
      level: 'INFO',
      event: 'validate.done',
      message: LOG_EVENTS['validate.done'],
      n: 1,
    });
  });

  test('GIVEN the event catalogue THEN every name is dotted lower-case and every message is distinct', () => {
    const names = Object.keys(LOG_EVENTS);
    for (const name of names) expect(name).toMatch(/^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/);
    expect(new Set(Object.values(LOG_EVENTS)).size).toBe(names.length);
  });
});
